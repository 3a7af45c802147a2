-- +goose Up
-- Sign-in and consent through an external UI (--login-ui-url,
-- --consent-ui-url): one row per challenge handed to the UI, keyed by a
-- digest of the challenge; the verifier the browser brings back is also
-- stored as a digest.
CREATE TABLE ui_challenges (
    id               TEXT COLLATE "C" PRIMARY KEY,
    kind             TEXT NOT NULL,
    request          TEXT NOT NULL,
    outcome          TEXT NOT NULL DEFAULT '',
    verifier_digest  TEXT COLLATE "C" UNIQUE,
    created_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    decided_at       TIMESTAMPTZ,
    used_at          TIMESTAMPTZ
);
CREATE INDEX ui_challenges_expires ON ui_challenges (expires_at);

-- +goose Down
-- Keyward's migrations are forward-only.
