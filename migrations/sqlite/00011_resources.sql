-- +goose Up
-- Resource servers registered by an administrator (RFC 8707 resource
-- indicators): uri is the resource identifier, scopes a JSON array of the
-- scopes it accepts. Times are Unix microseconds.
CREATE TABLE resources (
    id          TEXT PRIMARY KEY,
    uri         TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL DEFAULT '',
    scopes      TEXT NOT NULL DEFAULT '[]',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

-- The resources a client may ask for (a JSON array); empty: every
-- registered resource.
ALTER TABLE clients ADD COLUMN resources TEXT NOT NULL DEFAULT '[]';

-- +goose Down
-- Keyward's migrations are forward-only.
