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
	// Key is the key's record, or nil for CodeNotFound. It is shared with
	// the cache: do not modify it.
	Key *APIKey
	// RateLimit is the key's window after this call, or nil when the key
	// has no rate limit (or was not found).
	RateLimit *RateLimitState
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
	return s.check(ctx, raw, requiredScope, true)
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
	k, err := s.cache.get(ctx, p.ID, s.store.GetAPIKey)
	if errors.Is(err, store.ErrNotFound) {
		return notFound, nil
	}
	if err != nil {
		return Result{}, err
	}
	now := s.now()
	i := s.digests.matches(raw, k.Secrets)
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
	r := Result{Code: CodeValid, Key: k}
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
