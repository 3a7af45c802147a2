-- +goose Up
-- Token-signing keys (keys/signing). private_key is the PKCS #8 key sealed
-- with AES-256-GCM under a key derived from the system secret; times are
-- Unix microseconds (UTC), NULL when the event has not happened.
CREATE TABLE signing_keys (
    kid           TEXT PRIMARY KEY,
    alg           TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('next', 'active', 'retiring', 'retired')),
    origin        TEXT NOT NULL DEFAULT 'generated',
    private_key   BLOB NOT NULL,
    created_at    INTEGER NOT NULL,
    activated_at  INTEGER,
    retiring_at   INTEGER,
    retire_after  INTEGER,
    retired_at    INTEGER,
    revoked_at    INTEGER
) STRICT;
-- At most one active and one next key per algorithm, whatever the code does.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (alg) WHERE state = 'active';
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (alg) WHERE state = 'next';

-- +goose Down
-- Keyward's migrations are forward-only.
