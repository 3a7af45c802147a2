-- +goose Up
-- Times are Unix microseconds (UTC); lists are JSON arrays.
CREATE TABLE clients (
    id                         TEXT PRIMARY KEY,
    name                       TEXT NOT NULL,
    secret_digest              BLOB,
    public                     INTEGER NOT NULL DEFAULT 0,
    grant_types                TEXT NOT NULL DEFAULT '[]',
    scopes                     TEXT NOT NULL DEFAULT '[]',
    redirect_uris              TEXT NOT NULL DEFAULT '[]',
    post_logout_redirect_uris  TEXT NOT NULL DEFAULT '[]',
    audience                   TEXT NOT NULL DEFAULT '[]',
    skip_consent               INTEGER NOT NULL DEFAULT 0,
    access_token_format        TEXT NOT NULL DEFAULT 'jwt',
    id_token_alg               TEXT NOT NULL DEFAULT '',
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,
    email           TEXT NOT NULL DEFAULT '',
    email_verified  INTEGER NOT NULL DEFAULT 0,
    name            TEXT NOT NULL DEFAULT '',
    admin           INTEGER NOT NULL DEFAULT 0,
    disabled        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

CREATE TABLE oauth_tokens (
    kind              TEXT NOT NULL,
    signature         TEXT NOT NULL,
    request_id        TEXT NOT NULL,
    client_id         TEXT NOT NULL,
    subject           TEXT NOT NULL DEFAULT '',
    active            INTEGER NOT NULL DEFAULT 1,
    access_signature  TEXT NOT NULL DEFAULT '',
    data              BLOB NOT NULL,
    requested_at      INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    inactive_at       INTEGER,
    PRIMARY KEY (kind, signature)
) STRICT;
CREATE INDEX oauth_tokens_request_id ON oauth_tokens (request_id);
CREATE INDEX oauth_tokens_expires_at ON oauth_tokens (expires_at);

CREATE TABLE revoked_jtis (
    jti         TEXT PRIMARY KEY,
    expires_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE consents (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id   TEXT NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scopes      TEXT NOT NULL DEFAULT '[]',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
) STRICT;

CREATE TABLE browser_sessions (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    subject     TEXT NOT NULL DEFAULT '',
    data        TEXT NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL
) STRICT;

-- +goose Down
-- Keyward's migrations are forward-only.
