-- +goose Up
-- API keys. The key string is never stored: api_key_secrets holds keyed
-- digests (HMAC-SHA-256), one current (valid_until NULL) and any rolled-over
-- ones until the end of their grace period.
CREATE TABLE api_keys (
    id              TEXT COLLATE "C" PRIMARY KEY,
    env             TEXT NOT NULL,
    name            TEXT NOT NULL,
    hint            TEXT NOT NULL,
    owner_type      TEXT NOT NULL DEFAULT '' CHECK (owner_type IN ('', 'user', 'client')),
    owner_id        TEXT NOT NULL DEFAULT '',
    scopes          JSONB NOT NULL DEFAULT '[]',
    metadata        JSONB NOT NULL DEFAULT '{}',
    rate_limit      INTEGER NOT NULL DEFAULT 0,
    rate_period_ms  BIGINT NOT NULL DEFAULT 0,
    expires_at      TIMESTAMPTZ,
    disabled        BOOLEAN NOT NULL DEFAULT FALSE,
    revoked_at      TIMESTAMPTZ,
    last_used_at    TIMESTAMPTZ,
    usage_count     BIGINT NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX api_keys_owner ON api_keys (owner_type, owner_id);

CREATE TABLE api_key_secrets (
    digest       BYTEA PRIMARY KEY,
    key_id       TEXT COLLATE "C" NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    valid_until  TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX api_key_secrets_key_id ON api_key_secrets (key_id);
-- At most one current secret per key.
CREATE UNIQUE INDEX api_key_secrets_current ON api_key_secrets (key_id) WHERE valid_until IS NULL;

-- +goose Down
-- Keyward's migrations are forward-only.
