-- +goose Up
-- The browser a session signed in with (its User-Agent, cut to 256
-- bytes), shown on the account page's list of sessions.
ALTER TABLE browser_sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';

-- +goose Down
-- Keyward's migrations are forward-only.
