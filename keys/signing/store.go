package signing

import (
	"context"
)

// Store methods return the store's one error family: store.ErrNotFound
// for a kid that does not exist, store.ErrConflict for a write that would
// break a uniqueness rule (a kid that exists, or a second active or next
// key for one algorithm).
//
// Store persists signing keys. The engines in store/sqlite and
// store/postgres implement it; store/storetest.RunSigningKeys checks them.
type Store interface {
	// SigningKeys returns every key, in every state, ordered by CreatedAt
	// then KID.
	SigningKeys(ctx context.Context) ([]*Record, error)
	// SigningKey returns one key, or store.ErrNotFound.
	SigningKey(ctx context.Context, kid string) (*Record, error)
	// UpdateSigningKeys runs one transition of algorithm alg atomically. In
	// one transaction that holds an exclusive lock on alg (also when alg has
	// no key yet), it reads alg's keys, calls fn with them, and applies the
	// records fn returns in order: a kid fn was given is updated (its state
	// and the timestamps after CreatedAt), any other is inserted. When fn
	// returns an error, or a write fails (store.ErrConflict for a duplicate kid or
	// a second active or next key), nothing is written and that error is
	// returned.
	//
	// fn must be quick and must not use the database: it runs while the
	// lock is held and may be called again when the engine retries.
	UpdateSigningKeys(ctx context.Context, alg string, fn func(keys []*Record) ([]*Record, error)) error
}

// Events carries cache-invalidation messages between the instances sharing
// a database; store.Events satisfies it.
type Events interface {
	Notify(ctx context.Context, channel, payload string) error
	Subscribe(channel string, fn func(payload string)) (cancel func())
}

// Channel is the Events channel on which a Service announces a transition;
// the payload is the kid, and any payload makes every instance reload.
const Channel = "keyward_signing_keys"

// Auditor records audit events. Record must not block for long; its error
// is logged and does not undo the transition.
type Auditor interface {
	Record(ctx context.Context, eventType, subject string, data map[string]any) error
	// Atomic runs fn in one store transaction (store.Auditor.Atomic), so
	// that a transition and its events are committed together.
	Atomic(ctx context.Context, fn func(ctx context.Context) error) error
}

// Audit event types, one per transition; the subject is the kid.
const (
	EventCreated   = "signing_key.created"
	EventImported  = "signing_key.imported"
	EventActivated = "signing_key.activated"
	EventRetiring  = "signing_key.retiring"
	EventRetired   = "signing_key.retired"
	EventRevoked   = "signing_key.revoked"
)
