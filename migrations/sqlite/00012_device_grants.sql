-- +goose Up
-- Device authorization grants (RFC 8628), keyed by keyed digests of the
-- device code and of the normalised user code, never the codes. Times are
-- Unix microseconds (UTC); lists are JSON arrays.
CREATE TABLE device_grants (
    device_code_digest  TEXT PRIMARY KEY,
    user_code_digest    TEXT NOT NULL UNIQUE,
    client_id           TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scopes              TEXT NOT NULL DEFAULT '[]',
    audience            TEXT NOT NULL DEFAULT '[]',
    status              TEXT NOT NULL DEFAULT 'pending',
    user_id             TEXT REFERENCES users (id) ON DELETE CASCADE,
    auth_time           INTEGER,
    interval_micros     INTEGER NOT NULL,
    last_polled_at      INTEGER,
    last_poll_slowed    INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    expires_at          INTEGER NOT NULL,
    decided_at          INTEGER,
    redeemed_at         INTEGER
) STRICT;
CREATE INDEX device_grants_expires_at ON device_grants (expires_at);

-- +goose Down
-- Keyward's migrations are forward-only.
