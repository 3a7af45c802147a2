-- +goose Up
-- Facts about the installation, such as the fingerprint (a keyed digest,
-- never the value) of the system secret its data is protected with.
CREATE TABLE settings (
    name        TEXT COLLATE "C" PRIMARY KEY,
    value       BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

-- +goose Down
-- Keyward's migrations are forward-only.
