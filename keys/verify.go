package keys

import (
	"context"
	"errors"
	"strings"

	"github.com/keyward/keyward/store"
)

// Code is the outcome of a verification, as in the contract of
// POST /v1/apikeys/verify.
type Code string

// Verification codes. A disabled key answers CodeRevoked, and so does a
// rolled-over secret whose grace period has ended (while the store still
// remembers it): the contract has no other code for "this key no longer
// works".
const (
	CodeValid             Code = "VALID"
	CodeNotFound          Code = "NOT_FOUND"
	CodeRevoked           Code = "REVOKED"
	CodeExpired           Code = "EXPIRED"
	CodeRateLimited       Code = "RATE_LIMITED"
	CodeInsufficientScope Code = "INSUFFICIENT_SCOPE"
)

// Result is the answer to Verify or Inspect.
type Result struct {
	Valid bool
	Code  Code
	// Key is the key's record, or nil for CodeNotFound. Do not modify it,
	// and copy a string of it to keep it (see APIKey).
	Key *APIKey
	// RateLimit is the key's window after this call, or nil when the key
	// has no rate limit (or was not found).
	RateLimit *RateLimitState
	// Binding names the key and the secret presented, when the key is
	// usable (valid, rate-limited or short of a scope).
	Binding Binding
}

// Binding names an API key and one of its secrets, so that what was
// obtained with the key (a token exchanged for it, RFC 8693) can end with
// it: see Bound.
type Binding struct {
	KeyID string
	// Secret is the secret's creation time in Unix microseconds; a roll
	// makes a new secret, so it names one secret of the key.
	Secret int64
}

// Bound reports whether b still holds: the key exists, is neither revoked,
// disabled nor expired, and the bound secret is current or within the
// grace period of a roll. It answers from the cache like Verify (no
// database call for a cached key) and does not count against the rate
// limit. The error is only for a store failure.
func (s *Service) Bound(ctx context.Context, b Binding) (bool, error) {
	k, err := s.cache.get(ctx, b.KeyID, s.fetch)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	now := s.now()
	if k.Revoked() || k.Disabled || k.Expired(now) {
		return false, nil
	}
	for _, sd := range k.Secrets {
		if sd.CreatedAt.UnixMicro() == b.Secret {
			return sd.Current() || now.Before(sd.ValidUntil), nil
		}
	}
	return false, nil
}

// Verify checks raw and, when requiredScope is not empty, that the key
// holds every space-separated scope in it, and counts the call against the
// key's rate limit and usage. A malformed key, a key of the other env, an
// unknown id or a wrong secret are CodeNotFound without any database call
// for the first two; a cached key needs none at all. The error is only for
// a store failure (the answer is then unknown, not negative).
//
// Checks apply in order: found, revoked or disabled, expired, rate limit
// (every such call counts), scope.
func (s *Service) Verify(ctx context.Context, raw, requiredScope string) (Result, error) {
	r, err := s.check(ctx, raw, requiredScope, true)
	s.obs.Verified(r.Code)
	return r, err
}

// Inspect answers like Verify without a scope requirement, for token
// introspection (RFC 7662): it does not count against the rate limit nor
// the usage count, but still answers CodeRateLimited while the current
// window is used up.
func (s *Service) Inspect(ctx context.Context, raw string) (Result, error) {
	return s.check(ctx, raw, "", false)
}

func (s *Service) check(ctx context.Context, raw, requiredScope string, count bool) (Result, error) {
	notFound := Result{Code: CodeNotFound}
	p, err := Parse(raw)
	if err != nil || p.Env != s.env {
		return notFound, nil
	}
	k, err := s.cache.get(ctx, p.ID, s.fetch)
	if errors.Is(err, store.ErrNotFound) {
		return notFound, nil
	}
	if err != nil {
		return Result{}, err
	}
	i := s.digests.matches(raw, k.Secrets)
	if i < 0 {
		// Perhaps rolled on another instance after this one cached it: its
		// new secret would not be in the cached record yet.
		fresh, read, err := s.cache.reread(ctx, p.ID, s.store.GetAPIKey)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return notFound, nil
		case err != nil:
			return Result{}, err
		case read:
			k, i = fresh, s.digests.matches(raw, fresh.Secrets)
		}
	}
	now := s.now()
	switch {
	case i < 0:
		return notFound, nil
	case k.Revoked() || k.Disabled:
		return Result{Code: CodeRevoked, Key: k}, nil
	case !k.Secrets[i].Current() && !now.Before(k.Secrets[i].ValidUntil):
		return Result{Code: CodeRevoked, Key: k}, nil
	case k.Expired(now):
		return Result{Code: CodeExpired, Key: k}, nil
	}
	r := Result{Code: CodeValid, Key: k, Binding: Binding{KeyID: k.ID, Secret: k.Secrets[i].CreatedAt.UnixMicro()}}
	if !k.RateLimit.Unlimited() {
		st, ok := s.limits.take(k.ID, k.RateLimit, now, count)
		r.RateLimit = &st
		if !ok {
			r.Code = CodeRateLimited
			return r, nil
		}
	}
	if !hasScopes(k, requiredScope) {
		r.Code = CodeInsufficientScope
		return r, nil
	}
	if count {
		s.usage.record(k.ID, now)
	}
	r.Valid = true
	return r, nil
}

// fetchKey reads key id for a cache miss. When the store reads in
// batches, concurrent misses (a tour of many keys) are gathered into one
// query: the loader reads every key after its caller asked, so the
// cache's invalidation counter still wins over a fill that raced a
// revocation. A key that does not exist costs the same as one that does:
// its id rides in a batch like any other.
func (s *Service) fetchKey(ctx context.Context, id string) (*APIKey, error) {
	if s.loader == nil {
		return s.store.GetAPIKey(ctx, id)
	}
	k, ok, err := s.loader.Load(ctx, id)
	if err == nil && !ok {
		err = store.ErrNotFound
	}
	return k, err
}

// hasScopes reports whether k holds every space-separated scope in req.
func hasScopes(k *APIKey, req string) bool {
	for req != "" {
		var scope string
		scope, req, _ = strings.Cut(req, " ")
		if scope != "" && !k.HasScope(scope) {
			return false
		}
	}
	return true
}
