package store

import (
	"context"
	"time"
)

// Consent remembers which scopes a user granted to a client.
type Consent struct {
	UserID    string
	ClientID  string
	Scopes    []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// BrowserSession is a signed-in browser on the login page or the console.
type BrowserSession struct {
	// ID is the keyed digest of the session cookie's value, never the value.
	ID        string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
	// AMR are the authentication methods of the sign-in (RFC 8176 values);
	// empty for a session from before they were recorded (a password).
	AMR []string
	// UserAgent is the browser's User-Agent header at sign-in, cut to
	// 256 bytes, so a person can tell their sessions apart ("" if none).
	UserAgent string
}

// SessionStore persists consents and browser sessions.
type SessionStore interface {
	// SaveConsent creates or replaces the consent of (UserID, ClientID).
	SaveConsent(ctx context.Context, c *Consent) error
	// GetConsent returns the consent or ErrNotFound.
	GetConsent(ctx context.Context, userID, clientID string) (*Consent, error)
	// DeleteConsent removes the consent; ErrNotFound.
	DeleteConsent(ctx context.Context, userID, clientID string) error
	// ListConsents returns every consent of the user, most recently
	// updated first.
	ListConsents(ctx context.Context, userID string) ([]*Consent, error)

	// CreateBrowserSession stores s; ErrConflict if its ID exists.
	CreateBrowserSession(ctx context.Context, s *BrowserSession) error
	// GetBrowserSession returns the session (even if expired) or ErrNotFound.
	GetBrowserSession(ctx context.Context, id string) (*BrowserSession, error)
	// DeleteBrowserSession removes the session; ErrNotFound.
	DeleteBrowserSession(ctx context.Context, id string) error
	// ListUserBrowserSessions returns the user's sessions that have not
	// expired at now, newest first.
	ListUserBrowserSessions(ctx context.Context, userID string, now time.Time) ([]*BrowserSession, error)
	// DeleteOtherBrowserSessions removes every session of the user but
	// keepID ("" keeps none) and returns how many it removed.
	DeleteOtherBrowserSessions(ctx context.Context, userID, keepID string) (int, error)
}

// Store is everything the authorization server persists outside keys.
type Store interface {
	ClientStore
	AssertionStore
	UserStore
	TokenStore
	RevocationStore
	SessionStore
	AuditStore
	WebhookStore
	IdempotencyStore
	Transactor
	ResourceStore
	DeviceStore
	RegistrationTokenStore
	DPoPReplayStore
	UpstreamStore
	BackchannelStore
	FactorStore
	UIChallengeStore
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}
