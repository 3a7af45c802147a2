-- +goose Up
-- Device authorization grants (RFC 8628), keyed by keyed digests of the
-- device code and of the normalised user code, never the codes.
CREATE TABLE device_grants (
    device_code_digest  TEXT PRIMARY KEY,
    user_code_digest    TEXT NOT NULL UNIQUE,
    client_id           TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scopes              JSONB NOT NULL DEFAULT '[]',
    audience            JSONB NOT NULL DEFAULT '[]',
    status              TEXT NOT NULL DEFAULT 'pending',
    user_id             TEXT REFERENCES users (id) ON DELETE CASCADE,
    auth_time           TIMESTAMPTZ,
    interval_micros     BIGINT NOT NULL,
    last_polled_at      TIMESTAMPTZ,
    last_poll_slowed    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at          TIMESTAMPTZ NOT NULL,
    expires_at          TIMESTAMPTZ NOT NULL,
    decided_at          TIMESTAMPTZ,
    redeemed_at         TIMESTAMPTZ
);
CREATE INDEX device_grants_expires_at ON device_grants (expires_at);

-- +goose Down
-- Keyward's migrations are forward-only.
