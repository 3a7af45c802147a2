-- +goose Up
-- The security profile a client is held to: '' (none) or 'fapi2', the
-- FAPI 2.0 Security Profile (OpenID Foundation, 2025), which Keyward
-- validates when the client is saved and enforces on every request.
ALTER TABLE clients ADD COLUMN profile TEXT NOT NULL DEFAULT '';

-- +goose Down
-- Keyward's migrations are forward-only.
