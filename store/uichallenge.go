package store

import (
	"context"
	"time"
)

// UIChallenge is one pending sign-in or consent handed to an external
// ("bring your own") UI: the UI learns the challenge from the browser and
// answers through the admin API, and the browser comes back to Keyward
// with a verifier. Both are stored only as keyed digests.
type UIChallenge struct {
	// ID is the digest of the challenge.
	ID string
	// Kind is "login" or "consent".
	Kind string
	// Request describes the pending authorization request (JSON, opaque
	// to the store).
	Request string
	// Outcome is the app's answer (JSON, opaque to the store); "" until
	// decided.
	Outcome string
	// VerifierDigest names the challenge on the browser's return; set
	// with the outcome.
	VerifierDigest string
	CreatedAt      time.Time
	ExpiresAt      time.Time
	DecidedAt      time.Time
	UsedAt         time.Time
}

// UIChallengeStore keeps UI challenges. Every method is one statement, so
// any instance can answer any step.
type UIChallengeStore interface {
	// CreateUIChallenge stores c; ErrConflict when its ID is taken.
	CreateUIChallenge(ctx context.Context, c *UIChallenge) error
	// GetUIChallenge returns the challenge of a digest, or ErrNotFound.
	GetUIChallenge(ctx context.Context, id string) (*UIChallenge, error)
	// DecideUIChallenge records the outcome and verifier digest of an
	// undecided challenge that has not expired at time at: ErrNotFound
	// when there is none, ErrConflict when it was decided already or has
	// expired.
	DecideUIChallenge(ctx context.Context, id, verifierDigest, outcome string, at time.Time) error
	// UseUIChallenge takes up, once, the decided challenge of a verifier
	// digest that has not expired at time at, and returns it; ErrNotFound
	// otherwise.
	UseUIChallenge(ctx context.Context, verifierDigest string, at time.Time) (*UIChallenge, error)
	// DeleteExpiredUIChallenges deletes the challenges that expired
	// before before and reports how many.
	DeleteExpiredUIChallenges(ctx context.Context, before time.Time) (int64, error)
}
