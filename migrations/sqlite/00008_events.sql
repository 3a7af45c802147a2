-- +goose Up
-- Cache invalidations between processes sharing the file (a management
-- command beside a running server): Notify appends a row, and every
-- process's watcher dispatches the rows other processes appended. Rows
-- older than a minute are pruned. Times are Unix microseconds.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    origin      TEXT NOT NULL,
    channel     TEXT NOT NULL,
    payload     TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

-- +goose Down
-- Keyward's migrations are forward-only.
