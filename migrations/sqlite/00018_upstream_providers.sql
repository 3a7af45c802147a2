-- +goose Up
-- Upstream OpenID providers people may sign in with ("Sign in with …"),
-- configured by an administrator. client_secret is sealed (AES-256-GCM
-- under a key derived from the system secret, bound to the row's id);
-- scopes is a JSON array; claim_* name the ID-token claims that give a new
-- account its username, email and name. Times are Unix microseconds.
CREATE TABLE upstream_providers (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    display_name    TEXT NOT NULL DEFAULT '',
    issuer          TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    client_secret   BLOB NOT NULL,
    scopes          TEXT NOT NULL DEFAULT '[]',
    claim_username  TEXT NOT NULL DEFAULT '',
    claim_email     TEXT NOT NULL DEFAULT '',
    claim_name      TEXT NOT NULL DEFAULT '',
    enabled         INTEGER NOT NULL DEFAULT 1,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

-- Who a person is at an upstream provider (its issuer's sub) and which
-- local user that is. Deleting the provider or the user removes the link.
CREATE TABLE upstream_identities (
    provider_id  TEXT NOT NULL REFERENCES upstream_providers (id) ON DELETE CASCADE,
    subject      TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email        TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (provider_id, subject)
) STRICT;
CREATE INDEX upstream_identities_user ON upstream_identities (user_id);

-- +goose Down
-- Keyward's migrations are forward-only.
