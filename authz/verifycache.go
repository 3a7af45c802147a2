package authz

import (
	"crypto/sha256"
	"time"

	"github.com/maypok86/otter/v2"
)

// verifyCache remembers JWT access tokens whose signature already
// verified, so a resource server introspecting the same token again costs
// a hash and a lookup instead of an ECDSA verification. Expiry and the
// revocation list are still checked on every call. Entries live at most
// ttl, and the whole cache is dropped whenever the signing keys change (a
// revoked key must stop verifying at once).
//
// Entries are keyed by the token's SHA-256, and at most max of them are
// kept; otter's admission policy (W-TinyLFU) keeps the tokens in steady
// use when a tour of one-off tokens passes through, so memory stays
// bounded (about 0.5 KiB per entry) whatever the traffic.
type verifyCache struct {
	ttl time.Duration
	now func() time.Time
	obs Observer

	entries *otter.Cache[[sha256.Size]byte, verified]
}

type verified struct {
	claims *AccessClaims
	until  time.Time
}

// verifyCacheEntries bounds the verified-token cache.
const verifyCacheEntries = 50_000

func newVerifyCache(now func() time.Time) *verifyCache {
	return &verifyCache{ttl: time.Minute, now: now, obs: noObserver{},
		entries: otter.Must(&otter.Options[[sha256.Size]byte, verified]{MaximumSize: verifyCacheEntries})}
}

func (c *verifyCache) get(token string) (*AccessClaims, bool) {
	v, ok := c.entries.GetIfPresent(sha256.Sum256([]byte(token)))
	if !ok || !c.now().Before(v.until) {
		c.obs.CacheLookup(CacheJWTVerify, false)
		return nil, false
	}
	c.obs.CacheLookup(CacheJWTVerify, true)
	return v.claims, true
}

func (c *verifyCache) put(token string, claims *AccessClaims) {
	c.entries.Set(sha256.Sum256([]byte(token)), verified{claims: claims, until: c.now().Add(c.ttl)})
}

// reset drops every entry; it is subscribed to signing-key changes.
func (c *verifyCache) reset(string) {
	c.entries.InvalidateAll()
}
