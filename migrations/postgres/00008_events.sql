-- +goose Up
-- SQLite's version 8 adds a table through which processes sharing a file
-- exchange cache invalidations; PostgreSQL has LISTEN/NOTIFY for that.
-- This version keeps both engines on the same numbers.
SELECT 1;

-- +goose Down
-- Keyward's migrations are forward-only.
