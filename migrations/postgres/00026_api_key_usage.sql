-- +goose Up
-- API-key usage counts in a narrow table of their own. The usage flush
-- updates thousands of keys at once: in api_keys each count wrote a new
-- version of the key's whole row (name, scopes, metadata); here it
-- writes a row of three columns. Reads add the row to what api_keys
-- still holds (zero once moved).
CREATE TABLE api_key_usage (
    key_id       TEXT COLLATE "C" PRIMARY KEY REFERENCES api_keys (id) ON DELETE CASCADE,
    usage_count  BIGINT NOT NULL,
    last_used_at TIMESTAMPTZ
);
INSERT INTO api_key_usage (key_id, usage_count, last_used_at)
    SELECT id, usage_count, last_used_at FROM api_keys WHERE usage_count <> 0 OR last_used_at IS NOT NULL;
UPDATE api_keys SET usage_count = 0, last_used_at = NULL WHERE usage_count <> 0 OR last_used_at IS NOT NULL;

-- +goose Down
-- Keyward's migrations are forward-only.
