package signing

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrTooEarly is returned, inside a *TooEarlyError, by Rotate when the
// key it would promote has been published for less than the JWKS cache
// lifetime: a verifier holding an older cached JWKS would meet its kid as
// unknown and refuse the tokens it signs.
var ErrTooEarly = errors.New("signing: the next key has not been published for the JWKS cache lifetime")

// TooEarlyError says which key is not ready and when it will be.
type TooEarlyError struct {
	Alg string
	// KID is the next key; "" when the algorithm has none yet.
	KID string
	// Published is when the next key entered the JWKS.
	Published time.Time
	// ReadyAt is when Rotate will promote it without Force.
	ReadyAt time.Time
	// MaxAge is the JWKS cache lifetime the wait comes from.
	MaxAge time.Duration
}

func (e *TooEarlyError) Error() string {
	if e.KID == "" {
		return fmt.Sprintf("signing: %s has no published next key; one is published now and can sign after %s (the JWKS cache lifetime)",
			e.Alg, e.MaxAge)
	}
	return fmt.Sprintf("signing: the %s next key %s was published at %s, less than the JWKS cache lifetime (%s) ago; "+
		"it can be promoted from %s, or now by force (verifiers with an older cached JWKS may refuse its tokens until they refetch)",
		e.Alg, e.KID, e.Published.UTC().Format(time.RFC3339), e.MaxAge, e.ReadyAt.UTC().Format(time.RFC3339))
}

func (e *TooEarlyError) Unwrap() error { return ErrTooEarly }

// RotateOptions tunes an on-demand rotation.
type RotateOptions struct {
	// Force promotes the next key even if it has been published for less
	// than Config.JWKSMaxAge. It is recorded in the audit event. For a
	// compromised key, Revoke is the right tool.
	Force bool
}

// Rotate promotes alg's next key to active, moves the previous active key
// to retiring for Config.MaxTokenLifetime, and publishes a new next key.
// It returns the new active key. Unless opt.Force is set, it refuses with
// a *TooEarlyError (ErrTooEarly) when the next key has been in the JWKS for
// less than Config.JWKSMaxAge (and was not published with the algorithm's
// first key), so that no verifier caching the JWKS meets an unknown kid;
// when alg has no next key at all, it publishes one and refuses the same
// way. A rotation that would be refused because another one committed
// while it was waiting (concurrent requests) is answered by that rotation:
// Rotate returns the key it activated and changes nothing.
func (s *Service) Rotate(ctx context.Context, alg string, opt RotateOptions) (*Record, error) {
	var req request
	if !opt.Force {
		var err error
		if req, _, err = s.ask(ctx); err != nil {
			return nil, err
		}
	}
	return s.rotate(ctx, alg, opt, req)
}

// request is an on-demand rotation as it was asked for: when, and which
// key of each algorithm the instance knew as active then. A rotation
// that commits after the request was asked for answers it. Its stamp
// alone cannot say so: a rotation stamps its activation when it reads
// the keys, before it commits, and on its own instance's clock.
type request struct {
	at     time.Time         // zero: not an on-demand, unforced rotation
	active map[string]string // alg → the kid known as active at at ("" for none)
}

// ask records a request asked for now. The keys this instance has loaded
// lag the store (by a notification, or a reload interval without one)
// but never lead it, so a rotation committed after the request shows as a
// different active key. An instance that has not loaded its keys reads
// them from the store, just after at, and returns what it read (nil
// otherwise).
func (s *Service) ask(ctx context.Context) (request, []*Record, error) {
	set := s.set.Load()
	req := request{at: s.now(), active: map[string]string{}}
	recs, read := []*Record(nil), []*Record(nil)
	if set != nil {
		recs = set.records
	} else {
		var err error
		if read, err = s.List(ctx); err != nil {
			return request{}, nil, err
		}
		recs = read
	}
	for _, r := range recs {
		if r.State == StateActive {
			req.active[r.Alg] = r.KID
		}
	}
	return req, read, nil
}

// answeredBy reports whether active, the key the store has active now,
// is the work of a rotation committed after the request was asked for:
// one that activated it at or after req.at, or any that made a key other
// than the one known then active. Either answers the request.
func (req request) answeredBy(active *Record) bool {
	if req.at.IsZero() || active == nil {
		return false
	}
	return activatedSince(active, req.at) || active.KID != req.active[active.Alg]
}

func (s *Service) rotate(ctx context.Context, alg string, opt RotateOptions, req request) (*Record, error) {
	if alg == "" {
		alg = s.cfg.Algorithms[0]
	}
	if !supported(alg) {
		return nil, fmt.Errorf("signing: unsupported algorithm %q", alg)
	}
	var early *TooEarlyError
	p, err := s.transition(ctx, alg, func(p *plan) (err error) {
		p.asked = req
		early, err = p.rotate(!opt.Force)
		return err
	})
	if err != nil {
		return nil, err
	}
	if early != nil {
		return nil, early
	}
	if len(p.writes) == 0 {
		// Answered by a rotation committed since (another instance's):
		// catch up with it, so that the next request is judged by it.
		if err := s.Reload(ctx); err != nil {
			return nil, err
		}
	}
	return p.find(StateActive).Clone(), nil
}

// RotateAll rotates every configured algorithm and returns the new active
// keys. Without opt.Force it first checks that every algorithm's next key
// is ready, so that it rotates all of them or none.
func (s *Service) RotateAll(ctx context.Context, opt RotateOptions) ([]*Record, error) {
	var req request
	if !opt.Force {
		var read []*Record
		var err error
		if req, read, err = s.ask(ctx); err != nil {
			return nil, err
		}
		if err := s.readyToRotate(ctx, req, read); err != nil {
			return nil, err
		}
	}
	var out []*Record
	for _, alg := range s.cfg.Algorithms {
		r, err := s.rotate(ctx, alg, opt, req)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// readyToRotate reports the first configured algorithm whose next key is
// missing or younger than Config.JWKSMaxAge, unless a rotation of that
// algorithm committed since req was asked for (it answers req). recs are
// the keys as the store has them, read since req was asked for; nil: it
// reads them.
func (s *Service) readyToRotate(ctx context.Context, req request, recs []*Record) error {
	if recs == nil {
		var err error
		if recs, err = s.List(ctx); err != nil {
			return err
		}
	}
	now := s.now()
	for _, alg := range s.cfg.Algorithms {
		var same []*Record
		for _, r := range recs {
			if r.Alg == alg {
				same = append(same, r)
			}
		}
		next := firstIn(same, StateNext)
		if next == nil {
			// Rotate would publish one and refuse: refuse before any
			// algorithm rotates.
			return &TooEarlyError{Alg: alg, ReadyAt: now.Add(s.cfg.JWKSMaxAge), MaxAge: s.cfg.JWKSMaxAge}
		}
		if early := notReady(same, next, now, s.cfg.JWKSMaxAge); early != nil && !req.answeredBy(firstIn(same, StateActive)) {
			return early
		}
	}
	return nil
}

// notReady reports whether next, among keys (all of its algorithm), may
// not sign yet: it may once it has been published for maxAge, or if it was
// published no later than the algorithm's first key began to sign. In that
// case any JWKS cached without next lacked that first key too, so a
// verifier holding one had to refetch anyway: promoting next breaks
// nothing (this is what lets a fresh installation rotate at once).
func notReady(keys []*Record, next *Record, now time.Time, maxAge time.Duration) *TooEarlyError {
	ready := next.CreatedAt.Add(maxAge)
	if !now.Before(ready) {
		return nil
	}
	var first time.Time
	for _, k := range keys {
		if !k.ActivatedAt.IsZero() && (first.IsZero() || k.ActivatedAt.Before(first)) {
			first = k.ActivatedAt
		}
	}
	if !first.IsZero() && !next.CreatedAt.After(first) {
		return nil
	}
	return &TooEarlyError{Alg: next.Alg, KID: next.KID, Published: next.CreatedAt, ReadyAt: ready, MaxAge: maxAge}
}

// firstIn returns the first of keys in state st, or nil.
func firstIn(keys []*Record, st State) *Record {
	for _, k := range keys {
		if k.State == st {
			return k
		}
	}
	return nil
}
