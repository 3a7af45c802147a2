-- +goose Up
-- How a client authenticates at the token endpoint (RFC 7591 §2
-- token_endpoint_auth_method; '' = the default: none for a public client,
-- client_secret_basic otherwise) and its public keys for private_key_jwt
-- (RFC 7523 §2.2) and signed request objects (RFC 9101): a JWK Set given
-- by value (jwks, JSON text) or by reference (jwks_uri).
ALTER TABLE clients ADD COLUMN auth_method TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN jwks TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN jwks_uri TEXT NOT NULL DEFAULT '';

-- The jti of every client assertion seen (RFC 7523 §3 item 7), kept until
-- the assertion's exp so that a replay is refused on every instance.
CREATE TABLE client_assertion_jtis (
    client_id   TEXT NOT NULL,
    jti         TEXT NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX client_assertion_jtis_expires_at ON client_assertion_jtis (expires_at);

-- +goose Down
-- Keyward's migrations are forward-only.
