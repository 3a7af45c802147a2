-- +goose Up
-- Verifications of rate-limited API keys, counted per fixed window by every
-- instance together. Instances add their counts in batches (a few times a
-- second per busy key, never once per request); rows of windows that ended
-- are pruned.
CREATE TABLE api_key_rate_windows (
    key_id        TEXT COLLATE "C" NOT NULL,
    window_start  TIMESTAMPTZ NOT NULL,
    window_end    TIMESTAMPTZ NOT NULL,
    hits          BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, window_start, window_end)
);
CREATE INDEX api_key_rate_windows_end ON api_key_rate_windows (window_end);

-- +goose Down
-- Keyward's migrations are forward-only.
