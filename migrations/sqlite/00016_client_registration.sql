-- +goose Up
-- Dynamic client registration (RFC 7591) and management (RFC 7592).
-- registered: the client registered itself at the registration endpoint;
-- registration_token_digest: the keyed digest of its registration access
-- token (RFC 7592 §3); registration_metadata: the client metadata it
-- registered that Keyward keeps without acting on it (a JSON object).
ALTER TABLE clients ADD COLUMN registered INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clients ADD COLUMN registration_token_digest BLOB;
ALTER TABLE clients ADD COLUMN registration_metadata TEXT NOT NULL DEFAULT '';

-- Initial access tokens (RFC 7591 §3) an administrator creates: digest is
-- the keyed digest of the secret part; max_uses 0 is unlimited. Times are
-- Unix microseconds.
CREATE TABLE registration_tokens (
    id          TEXT PRIMARY KEY,
    digest      BLOB NOT NULL,
    max_uses    INTEGER NOT NULL DEFAULT 0,
    uses        INTEGER NOT NULL DEFAULT 0,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    created_at  INTEGER NOT NULL
) STRICT;

-- +goose Down
-- Keyward's migrations are forward-only.
