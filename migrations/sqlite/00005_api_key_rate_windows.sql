-- +goose Up
-- Verifications of rate-limited API keys, counted per fixed window. Counts
-- are added in batches (a few times a second per busy key, never once per
-- request); rows of windows that ended are pruned. Times are Unix
-- microseconds.
CREATE TABLE api_key_rate_windows (
    key_id        TEXT NOT NULL,
    window_start  INTEGER NOT NULL,
    window_end    INTEGER NOT NULL,
    hits          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, window_start, window_end)
) STRICT;
CREATE INDEX api_key_rate_windows_end ON api_key_rate_windows (window_end);

-- +goose Down
-- Keyward's migrations are forward-only.
