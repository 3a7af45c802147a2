-- +goose Up
-- The logo the consent page shows for a client: '' (none) or an https
-- URL (RFC 7591 §2 logo_uri).
ALTER TABLE clients ADD COLUMN logo_uri TEXT NOT NULL DEFAULT '';

-- +goose Down
-- Keyward's migrations are forward-only.
