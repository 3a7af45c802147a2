-- +goose Up
-- Facts about the installation, such as the fingerprint (a keyed digest,
-- never the value) of the system secret its data is protected with. Times
-- are Unix microseconds.
CREATE TABLE settings (
    name        TEXT PRIMARY KEY,
    value       BLOB NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

-- +goose Down
-- Keyward's migrations are forward-only.
