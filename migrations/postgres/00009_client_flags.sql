-- +goose Up
-- A disabled client's tokens stop working; pkce_optional lets a legacy
-- confidential client skip PKCE (required by default, RFC 9700 §2.1.1).
ALTER TABLE clients ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE clients ADD COLUMN pkce_optional BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
-- Keyward's migrations are forward-only.
