-- +goose Up
-- OpenID Connect Back-Channel Logout 1.0. A client registers where its
-- logout tokens go (§2.2).
ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN backchannel_logout_session_required BOOLEAN NOT NULL DEFAULT FALSE;

-- The clients that a browser session signed in to (an authorization code
-- issued to a client with a backchannel_logout_uri): when the session
-- ends, each of them is sent a logout token. Gone with the session.
CREATE TABLE browser_session_clients (
    session_id  TEXT NOT NULL REFERENCES browser_sessions (id) ON DELETE CASCADE,
    client_id   TEXT COLLATE "C" NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id     TEXT COLLATE "C" NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (session_id, client_id)
);
CREATE INDEX browser_session_clients_user ON browser_session_clients (user_id);

-- The back-channel logout outbox: one row per logout token to send,
-- written in the transaction that ends the session (or disables the
-- user), delivered by any instance under a per-row lease, retried with
-- the webhook dispatcher's backoff. The token is signed at each attempt
-- (jti stays the same), so nothing here is a credential.
CREATE TABLE logout_deliveries (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id         TEXT COLLATE "C" NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    subject           TEXT NOT NULL DEFAULT '',
    sid               TEXT NOT NULL DEFAULT '',
    jti               TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'pending',
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   TIMESTAMPTZ NOT NULL,
    first_attempt_at  TIMESTAMPTZ,
    last_attempt_at   TIMESTAMPTZ,
    last_status       INTEGER NOT NULL DEFAULT 0,
    last_error        TEXT NOT NULL DEFAULT '',
    lease_owner       TEXT NOT NULL DEFAULT '',
    lease_until       TIMESTAMPTZ NOT NULL DEFAULT 'epoch',
    created_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX logout_deliveries_due ON logout_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX logout_deliveries_created ON logout_deliveries (created_at);

-- +goose Down
-- Keyward's migrations are forward-only.
