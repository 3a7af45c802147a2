-- +goose Up
-- Disabling or deleting a user revokes every grant of that subject.
CREATE INDEX oauth_tokens_subject ON oauth_tokens (subject);

-- +goose Down
-- Keyward's migrations are forward-only.
