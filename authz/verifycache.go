package authz

import (
	"sync"
	"time"
)

// verifyCache remembers JWT access tokens whose signature already
// verified, so a resource server introspecting the same token again costs
// a map lookup instead of an ECDSA verification. Expiry and the revocation
// list are still checked on every call. Entries live at most ttl, and the
// whole cache is dropped whenever the signing keys change (a revoked key
// must stop verifying at once).
type verifyCache struct {
	ttl time.Duration
	max int
	now func() time.Time
	obs Observer

	mu      sync.RWMutex
	entries map[string]verified
}

type verified struct {
	claims *AccessClaims
	until  time.Time
}

func newVerifyCache(now func() time.Time) *verifyCache {
	return &verifyCache{ttl: time.Minute, max: 50_000, now: now, obs: noObserver{}, entries: map[string]verified{}}
}

func (c *verifyCache) get(token string) (*AccessClaims, bool) {
	c.mu.RLock()
	v, ok := c.entries[token]
	c.mu.RUnlock()
	if !ok || !c.now().Before(v.until) {
		c.obs.CacheLookup(CacheJWTVerify, false)
		return nil, false
	}
	c.obs.CacheLookup(CacheJWTVerify, true)
	return v.claims, true
}

func (c *verifyCache) put(token string, claims *AccessClaims) {
	c.mu.Lock()
	if len(c.entries) >= c.max {
		c.entries = make(map[string]verified, c.max/4)
	}
	c.entries[token] = verified{claims: claims, until: c.now().Add(c.ttl)}
	c.mu.Unlock()
}

// reset drops every entry; it is subscribed to signing-key changes.
func (c *verifyCache) reset(string) {
	c.mu.Lock()
	c.entries = map[string]verified{}
	c.mu.Unlock()
}
