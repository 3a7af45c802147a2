-- +goose Up
-- Ids use the byte-order "C" collation, so cursor pagination matches SQLite.
CREATE TABLE clients (
    id                         TEXT COLLATE "C" PRIMARY KEY,
    name                       TEXT NOT NULL,
    secret_digest              BYTEA,
    public                     BOOLEAN NOT NULL DEFAULT FALSE,
    grant_types                JSONB NOT NULL DEFAULT '[]',
    scopes                     JSONB NOT NULL DEFAULT '[]',
    redirect_uris              JSONB NOT NULL DEFAULT '[]',
    post_logout_redirect_uris  JSONB NOT NULL DEFAULT '[]',
    audience                   JSONB NOT NULL DEFAULT '[]',
    skip_consent               BOOLEAN NOT NULL DEFAULT FALSE,
    access_token_format        TEXT NOT NULL DEFAULT 'jwt',
    id_token_alg               TEXT NOT NULL DEFAULT '',
    created_at                 TIMESTAMPTZ NOT NULL,
    updated_at                 TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id              TEXT COLLATE "C" PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,
    email           TEXT NOT NULL DEFAULT '',
    email_verified  BOOLEAN NOT NULL DEFAULT FALSE,
    name            TEXT NOT NULL DEFAULT '',
    admin           BOOLEAN NOT NULL DEFAULT FALSE,
    disabled        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE oauth_tokens (
    kind              TEXT NOT NULL,
    signature         TEXT NOT NULL,
    request_id        TEXT NOT NULL,
    client_id         TEXT NOT NULL,
    subject           TEXT NOT NULL DEFAULT '',
    active            BOOLEAN NOT NULL DEFAULT TRUE,
    access_signature  TEXT NOT NULL DEFAULT '',
    data              BYTEA NOT NULL,
    requested_at      TIMESTAMPTZ NOT NULL,
    expires_at        TIMESTAMPTZ NOT NULL,
    inactive_at       TIMESTAMPTZ,
    PRIMARY KEY (kind, signature)
);
CREATE INDEX oauth_tokens_request_id ON oauth_tokens (request_id);
CREATE INDEX oauth_tokens_expires_at ON oauth_tokens (expires_at);

CREATE TABLE revoked_jtis (
    jti         TEXT PRIMARY KEY,
    expires_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE consents (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id   TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scopes      JSONB NOT NULL DEFAULT '[]',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

CREATE TABLE browser_sessions (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE audit_events (
    id          TEXT COLLATE "C" PRIMARY KEY,
    type        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    subject     TEXT NOT NULL DEFAULT '',
    data        JSONB NOT NULL DEFAULT '{}',
    created_at  TIMESTAMPTZ NOT NULL
);

-- +goose Down
-- Keyward's migrations are forward-only.
