-- +goose Up
-- dpop_jtis: the DPoP proofs already seen (RFC 9449 §11.1), shared by every
-- instance so a proof replayed to another one is refused too. key is a
-- digest of the proof key's thumbprint and the proof's jti; a row is kept
-- until the proof's iat window has passed.
CREATE TABLE dpop_jtis (
    key         TEXT PRIMARY KEY,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX dpop_jtis_expires_at ON dpop_jtis (expires_at);

-- dpop_required: the client's token requests must carry a DPoP proof
-- (RFC 9449 §5.2, dpop_bound_access_tokens).
ALTER TABLE clients ADD COLUMN dpop_required BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
-- Keyward's migrations are forward-only.
