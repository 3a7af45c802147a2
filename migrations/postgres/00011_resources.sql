-- +goose Up
-- Resource servers registered by an administrator (RFC 8707 resource
-- indicators): uri is the resource identifier, scopes the scopes it
-- accepts.
CREATE TABLE resources (
    id          TEXT COLLATE "C" PRIMARY KEY,
    uri         TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL DEFAULT '',
    scopes      JSONB NOT NULL DEFAULT '[]',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

-- The resources a client may ask for; empty: every registered resource.
ALTER TABLE clients ADD COLUMN resources JSONB NOT NULL DEFAULT '[]';

-- +goose Down
-- Keyward's migrations are forward-only.
