-- +goose Up
-- The RFC 8707 resources a device authorization request named (a JSON
-- array): the grant's resources, as the authorization code grant keeps
-- them in its session.
ALTER TABLE device_grants ADD COLUMN resources TEXT NOT NULL DEFAULT '[]';

-- +goose Down
-- Keyward's migrations are forward-only.
