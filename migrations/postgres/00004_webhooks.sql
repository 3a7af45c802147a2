-- +goose Up
-- Webhooks receive audit events. secret is sealed by the admin package
-- (AES-GCM under a key derived from the system secret).
CREATE TABLE webhooks (
    id           TEXT COLLATE "C" PRIMARY KEY,
    url          TEXT NOT NULL,
    event_types  JSONB NOT NULL DEFAULT '[]',
    description  TEXT NOT NULL DEFAULT '',
    secret       BYTEA NOT NULL,
    enabled      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

-- Responses to admin API POSTs sent with an Idempotency-Key, kept 24 hours.
-- body is sealed like webhooks.secret: it may hold a secret shown once.
CREATE TABLE idempotency_keys (
    principal     TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  BYTEA NOT NULL,
    status        INTEGER NOT NULL DEFAULT 0,
    body          BYTEA,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

-- +goose Down
-- Keyward's migrations are forward-only.
