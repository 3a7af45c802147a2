-- +goose Up
-- Webhooks receive audit events. secret is sealed by the admin package
-- (AES-GCM under a key derived from the system secret). Times are Unix
-- microseconds.
CREATE TABLE webhooks (
    id           TEXT PRIMARY KEY,
    url          TEXT NOT NULL,
    event_types  TEXT NOT NULL DEFAULT '[]',
    description  TEXT NOT NULL DEFAULT '',
    secret       BLOB NOT NULL,
    enabled      INTEGER NOT NULL DEFAULT 1,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

-- Responses to admin API POSTs sent with an Idempotency-Key, kept 24 hours.
-- body is sealed like webhooks.secret: it may hold a secret shown once.
CREATE TABLE idempotency_keys (
    principal     TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  BLOB NOT NULL,
    status        INTEGER NOT NULL DEFAULT 0,
    body          BLOB,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (principal, key)
) STRICT;
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

-- +goose Down
-- Keyward's migrations are forward-only.
