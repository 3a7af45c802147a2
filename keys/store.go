package keys

import (
	"context"
	"time"
)

// Store persists API keys. The SQLite and PostgreSQL engines implement it;
// store/storetest.RunAPIKeys is its conformance suite. Every method returns
// store.ErrNotFound (possibly wrapped) when no key has the given id.
type Store interface {
	// CreateAPIKey stores k with its single current secret and sets its
	// CreatedAt and UpdatedAt (and the secret's CreatedAt). It returns
	// store.ErrConflict when the id or the digest is taken.
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// GetAPIKey returns the key with its Secrets.
	GetAPIKey(ctx context.Context, id string) (*APIKey, error)
	// ListAPIKeys returns up to limit keys (default 50, at most 500) with
	// ids after cursor, ordered by id, without their Secrets, and the
	// cursor of the next page ("" when this page is the last).
	ListAPIKeys(ctx context.Context, limit int, cursor string) ([]*APIKey, string, error)
	// SearchAPIKeys is ListAPIKeys keeping only the keys whose id, name or
	// hint contains q, ignoring case (store.Page's Search); q "" keeps all.
	SearchAPIKeys(ctx context.Context, q string, limit int, cursor string) ([]*APIKey, string, error)
	// UpdateAPIKey writes k's Name, Scopes, Metadata, RateLimit and
	// ExpiresAt, and sets its UpdatedAt. It leaves every other field alone.
	UpdateAPIKey(ctx context.Context, k *APIKey) error
	// SetAPIKeyDisabled disables or enables a key.
	SetAPIKeyDisabled(ctx context.Context, id string, disabled bool) error
	// RevokeAPIKey marks a key revoked at at, ending every secret it has;
	// revoking a revoked key keeps the first revocation time.
	RevokeAPIKey(ctx context.Context, id string, at time.Time) error
	// RollAPIKey makes digest the key's current secret and hint its hint;
	// the previous current secret, and any older one in grace, stay valid
	// until graceUntil at the latest. Secrets whose grace has ended are
	// deleted. It returns store.ErrConflict for a revoked key. Concurrent rolls
	// leave exactly one current secret.
	RollAPIKey(ctx context.Context, id string, digest []byte, hint string, graceUntil time.Time) error
	// DeleteAPIKey removes a key and its secrets.
	DeleteAPIKey(ctx context.Context, id string) error
	// RecordAPIKeyUsage adds each Usage's Count to its key's usage count and
	// moves its last-used time forward (never back). Usage of a key that no
	// longer exists is ignored.
	RecordAPIKeyUsage(ctx context.Context, usage []Usage) error
}

// BatchStore is a Store that reads many keys in one round trip, so that
// concurrent cache misses on the verification path share one query. Both
// engines implement it; store/storetest.RunAPIKeys checks it.
type BatchStore interface {
	// GetAPIKeys returns, by id, the keys among ids that exist, each as
	// GetAPIKey returns it (with its Secrets) but with only what
	// verification reads (APIKey.VerificationView: the descriptive fields
	// may be zero, as in the key cache); an id with no key is absent from
	// the map.
	GetAPIKeys(ctx context.Context, ids []string) (map[string]*APIKey, error)
}

// RateCounter shares API-key rate-limit counts between the instances that
// share a database. Both engines implement it; store/storetest.RunAPIKeys
// checks it.
type RateCounter interface {
	// AddAPIKeyHits adds each Hits.Count to the shared count of its key's
	// window and returns the counts after the additions, in the order of
	// hits. A Count of 0 only reads (0 for a window never counted). It is
	// one transaction.
	AddAPIKeyHits(ctx context.Context, hits []Hits) ([]int64, error)
	// PruneAPIKeyHits deletes the counts of windows that ended by t
	// (End <= t).
	PruneAPIKeyHits(ctx context.Context, t time.Time) error
}

// Hits is a batch of one key's verifications in the fixed rate-limit
// window [Start, End).
type Hits struct {
	KeyID      string
	Start, End time.Time
	Count      int64
}

// Channel is the Events channel on which API-key cache invalidations
// travel; the payload is a key id, or "*" to drop every cached key.
const Channel = "keyward_apikeys"

// resync is the payload that drops everything cached (store.Resync).
const resync = "*"

// Events carries cache invalidations between the instances sharing a
// database (PostgreSQL LISTEN/NOTIFY; in-process for SQLite). Both store
// engines implement it.
type Events interface {
	// Notify sends payload on channel to every subscriber of every
	// instance, this one included.
	Notify(ctx context.Context, channel, payload string) error
	// Subscribe calls fn for each payload on channel until cancel is
	// called; fn must not block.
	Subscribe(channel string, fn func(payload string)) (cancel func())
}

// Auditor records what happened to API keys. data never holds a key.
type Auditor interface {
	Record(ctx context.Context, eventType, subject string, data map[string]any) error
	// Atomic runs fn in one store transaction (store.Auditor.Atomic), so
	// that a change and its event are committed together.
	Atomic(ctx context.Context, fn func(ctx context.Context) error) error
}

// Audit event types written by Service.
const (
	EventCreated  = "api_key.created"
	EventUpdated  = "api_key.updated"
	EventDisabled = "api_key.disabled"
	EventEnabled  = "api_key.enabled"
	EventRevoked  = "api_key.revoked"
	EventRolled   = "api_key.rolled"
	EventDeleted  = "api_key.deleted"
)
