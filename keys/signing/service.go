package signing

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/keyward/keyward/keys"
)

// Service manages the signing keys of one instance: transitions in the
// Store, and an in-memory snapshot that signs, verifies and serves the
// JWKS without touching the database.
type Service struct {
	store  Store
	events Events
	cfg    Config
	sealer *sealer
	algs   []jose.SignatureAlgorithm // Config.Algorithms, for Verify

	set      atomic.Pointer[keySet]
	reloadMu sync.Mutex
}

// New returns a Service over st. The private keys are sealed with a key
// derived from secret (keys.PurposeSigningKey). events may be nil (one
// instance, or a CLI command); then other instances see a transition at
// their next periodic reload. New reads nothing: call Bootstrap (server)
// or Reload (read-only use) before signing.
func New(st Store, secret keys.Secret, events Events, cfg Config) (*Service, error) {
	if st == nil {
		return nil, errors.New("signing: nil store")
	}
	if err := secret.Validate(); err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	sl, err := newSealer(secret)
	if err != nil {
		return nil, err
	}
	s := &Service{store: st, events: events, cfg: cfg, sealer: sl}
	for _, a := range cfg.Algorithms {
		s.algs = append(s.algs, jose.SignatureAlgorithm(a))
	}
	return s, nil
}

// Algorithms returns the algorithms the Service keeps keys for; the first
// is the default of Sign.
func (s *Service) Algorithms() []string { return slices.Clone(s.cfg.Algorithms) }

// ActiveKID returns the kid of alg's active key ("" for the default
// algorithm), or "" when there is none.
func (s *Service) ActiveKID(alg string) string {
	if m := s.activeKey(alg); m != nil {
		return m.kid
	}
	return ""
}

func (s *Service) activeKey(alg string) *material {
	set := s.set.Load()
	if set == nil {
		return nil
	}
	if alg == "" {
		alg = s.cfg.Algorithms[0]
	}
	return set.active[alg]
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// Reload reads every key from the store and swaps the in-memory snapshot.
// Keys loaded before are not decrypted again.
func (s *Service) Reload(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	recs, err := s.store.SigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("signing: load keys: %w", err)
	}
	s.set.Store(buildSet(recs, s.set.Load(), s.sealer, s.cfg.Algorithms, s.cfg.Logger))
	return nil
}

// List returns every key, in every state, oldest first, from the store.
func (s *Service) List(ctx context.Context) ([]*Record, error) {
	return s.store.SigningKeys(ctx)
}

// Bootstrap gives every configured algorithm an active and a next key,
// then loads the keys. On first start the active key is created active
// directly: no verifier can have cached a JWKS that lacks it. It fails
// when an active key does not decrypt, which means a system secret other
// than the one the keys were sealed with.
func (s *Service) Bootstrap(ctx context.Context) error {
	for _, alg := range s.cfg.Algorithms {
		if _, err := s.transition(ctx, alg, func(p *plan) error { return p.ensure() }); err != nil {
			return err
		}
	}
	if err := s.Reload(ctx); err != nil {
		return err
	}
	set := s.set.Load()
	for _, r := range set.records {
		if r.State == StateActive && set.active[r.Alg] == nil && slices.Contains(s.cfg.Algorithms, r.Alg) {
			return fmt.Errorf("signing: the active %s key %s cannot be decrypted: is the system secret the one it was created with?", r.Alg, r.KID)
		}
	}
	return nil
}

// Revoke is the emergency exit for a compromised key: it leaves the JWKS
// and stops signing at once (state retired, RevokedAt set), and when it was
// active the next key, or a new one, is activated immediately. It returns
// store.ErrNotFound for an unknown kid; revoking a revoked key does nothing.
func (s *Service) Revoke(ctx context.Context, kid string) error {
	rec, err := s.store.SigningKey(ctx, kid)
	if err != nil {
		return err
	}
	// An algorithm no longer configured gets no replacement keys.
	replace := slices.Contains(s.cfg.Algorithms, rec.Alg)
	_, err = s.transition(ctx, rec.Alg, func(p *plan) error { return p.revoke(kid, replace) })
	return err
}
