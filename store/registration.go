package store

import (
	"context"
	"time"
)

// RegistrationToken is an initial access token (RFC 7591 §3): an
// administrator hands it to a developer, who presents it as a Bearer token
// to register a client at the dynamic client registration endpoint.
type RegistrationToken struct {
	ID string
	// Digest is the keyed digest of the token's secret part; the secret
	// itself is never stored.
	Digest []byte
	// MaxUses is how many registrations it allows; 0 is unlimited.
	MaxUses int
	// Uses counts the registrations made with it.
	Uses      int
	ExpiresAt time.Time
	// RevokedAt is zero while the token is not revoked.
	RevokedAt time.Time
	CreatedAt time.Time
}

// Usable reports whether t still allows a registration at now.
func (t *RegistrationToken) Usable(now time.Time) bool {
	return t.RevokedAt.IsZero() && now.Before(t.ExpiresAt) && (t.MaxUses == 0 || t.Uses < t.MaxUses)
}

// RegistrationTokenStore persists initial access tokens.
type RegistrationTokenStore interface {
	// CreateRegistrationToken stores t (CreatedAt is set); ErrConflict if
	// its ID is taken.
	CreateRegistrationToken(ctx context.Context, t *RegistrationToken) error
	// GetRegistrationToken returns the token or ErrNotFound.
	GetRegistrationToken(ctx context.Context, id string) (*RegistrationToken, error)
	// ListRegistrationTokens returns one page ordered by ID and the next
	// cursor.
	ListRegistrationTokens(ctx context.Context, p Page) ([]*RegistrationToken, string, error)
	// RevokeRegistrationToken sets RevokedAt to at unless it is set
	// already (a second revocation keeps the first time); ErrNotFound.
	RevokeRegistrationToken(ctx context.Context, id string, at time.Time) error
	// UseRegistrationToken counts one use of the token, in one statement,
	// if it is Usable at now: ErrNotFound for an unknown id, ErrConflict
	// for a revoked, expired or used-up token (nothing is counted then).
	UseRegistrationToken(ctx context.Context, id string, now time.Time) error
}
