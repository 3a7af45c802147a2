-- +goose Up
-- par_required: the client's authorization requests must come through the
-- pushed authorization request endpoint (RFC 9126 §6).
ALTER TABLE clients ADD COLUMN par_required INTEGER NOT NULL DEFAULT 0;

-- +goose Down
-- Keyward's migrations are forward-only.
