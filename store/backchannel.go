package store

import (
	"context"
	"time"
)

// SessionClient records that a browser session signed in to a client
// (an authorization code was issued to it from the session), so that the
// client is sent a logout token when the session ends (OpenID Connect
// Back-Channel Logout 1.0 §2.5).
type SessionClient struct {
	SessionID string
	ClientID  string
	UserID    string
	CreatedAt time.Time
}

// LogoutDelivery is one logout token to send to one client's
// backchannel_logout_uri: a row of the back-channel logout outbox. The
// token itself is signed at each attempt from these fields.
type LogoutDelivery struct {
	ID       int64
	ClientID string
	// Subject and SID are the token's sub and sid claims (either may be
	// empty, not both: Back-Channel Logout §2.4).
	Subject string
	SID     string
	// JTI is the token's jti, the same at every attempt so the client can
	// drop a token it already acted on.
	JTI            string
	Status         DeliveryStatus
	Attempts       int
	NextAttemptAt  time.Time
	FirstAttemptAt time.Time // zero until the first attempt
	LastAttemptAt  time.Time
	LastStatus     int
	LastError      string
	CreatedAt      time.Time
}

// BackchannelStore keeps the browser sessions' clients and the
// back-channel logout outbox. Writers call it inside the transaction
// that ends the session (Transactor.InTx), so the deliveries exist if
// and only if the session ended.
type BackchannelStore interface {
	// AddSessionClient records c (CreatedAt is set); recording the same
	// session and client again is not an error.
	AddSessionClient(ctx context.Context, c *SessionClient) error
	// SessionClients returns the clients of a browser session, by client ID.
	SessionClients(ctx context.Context, sessionID string) ([]*SessionClient, error)
	// UserSessionClients returns the clients of every browser session of
	// the user, by session and client ID.
	UserSessionClients(ctx context.Context, userID string) ([]*SessionClient, error)
	// DeleteUserBrowserSessions signs the user out of every browser (and
	// so forgets their sessions' clients); it returns how many it deleted.
	DeleteUserBrowserSessions(ctx context.Context, userID string) (int, error)
	// QueueLogouts inserts pending deliveries due at their NextAttemptAt
	// (ID and CreatedAt are set).
	QueueLogouts(ctx context.Context, ds []*LogoutDelivery) error
	// LeaseLogouts takes up to limit pending deliveries due at now whose
	// lease is free or owner's, leased to owner until until, oldest due
	// first.
	LeaseLogouts(ctx context.Context, owner string, now, until time.Time, limit int) ([]*LogoutDelivery, error)
	// RecordLogoutAttempt applies the attempt made at at (its HTTP status,
	// 0 for none, and error) and r to owner's leased delivery id, and
	// releases the lease; ErrNotFound when owner no longer holds it.
	RecordLogoutAttempt(ctx context.Context, id int64, owner string, at time.Time, status int, errText string, r AttemptResult) error
	// GetLogoutDelivery returns one delivery; ErrNotFound.
	GetLogoutDelivery(ctx context.Context, id int64) (*LogoutDelivery, error)
	// ClientLogouts returns the client's deliveries, newest first, at most
	// limit.
	ClientLogouts(ctx context.Context, clientID string, limit int) ([]*LogoutDelivery, error)
	// PruneLogouts deletes delivered and failed deliveries created before
	// before, and returns how many.
	PruneLogouts(ctx context.Context, before time.Time) (int, error)
}
