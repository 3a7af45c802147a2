-- +goose Up
-- Second factors and passkeys (issue 13).

-- WebAuthn credentials (passkeys and security keys), the credential
-- record of WebAuthn Level 3 §4: id, public key, signature counter,
-- backup flags, transports and the authenticator's AAGUID.
CREATE TABLE webauthn_credentials (
    id               TEXT PRIMARY KEY, -- base64url of the credential id
    user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    public_key       BYTEA NOT NULL,
    sign_count       BIGINT NOT NULL DEFAULT 0,
    user_verified    BOOLEAN NOT NULL DEFAULT FALSE,
    backup_eligible  BOOLEAN NOT NULL DEFAULT FALSE,
    backup_state     BOOLEAN NOT NULL DEFAULT FALSE,
    transports       JSONB NOT NULL DEFAULT '[]',
    aaguid           BYTEA NOT NULL,
    attestation_type TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL,
    last_used_at     TIMESTAMPTZ
);
CREATE INDEX webauthn_credentials_user ON webauthn_credentials (user_id);

-- One TOTP authenticator per user (RFC 6238): the secret sealed with a
-- key derived from the system secret, and the last accepted time step so
-- a code is accepted once.
CREATE TABLE totp_factors (
    user_id      TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret       BYTEA NOT NULL,
    confirmed    BOOLEAN NOT NULL DEFAULT FALSE,
    last_step    BIGINT NOT NULL DEFAULT 0,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ
);

-- One-time recovery codes, as keyed digests.
CREATE TABLE recovery_codes (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    digest     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ,
    PRIMARY KEY (user_id, digest)
);

-- The authentication methods (RFC 8176) a browser session was made with.
ALTER TABLE browser_sessions ADD COLUMN amr JSONB NOT NULL DEFAULT '[]';

-- A client's second-factor policy: '' (the deployment's), optional or required.
ALTER TABLE clients ADD COLUMN mfa TEXT NOT NULL DEFAULT '';

-- +goose Down
-- Keyward's migrations are forward-only.
