-- +goose Up
-- Dynamic client registration (RFC 7591) and management (RFC 7592).
-- registered: the client registered itself at the registration endpoint;
-- registration_token_digest: the keyed digest of its registration access
-- token (RFC 7592 §3); registration_metadata: the client metadata it
-- registered that Keyward keeps without acting on it (JSON text, kept byte for byte).
ALTER TABLE clients ADD COLUMN registered BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE clients ADD COLUMN registration_token_digest BYTEA;
ALTER TABLE clients ADD COLUMN registration_metadata TEXT NOT NULL DEFAULT '';

-- Initial access tokens (RFC 7591 §3) an administrator creates: digest is
-- the keyed digest of the secret part; max_uses 0 is unlimited.
CREATE TABLE registration_tokens (
    id          TEXT COLLATE "C" PRIMARY KEY,
    digest      BYTEA NOT NULL,
    max_uses    INTEGER NOT NULL DEFAULT 0,
    uses        INTEGER NOT NULL DEFAULT 0,
    expires_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL
);

-- +goose Down
-- Keyward's migrations are forward-only.
