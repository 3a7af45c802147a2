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
// ttl and never past their token's expiry, and the whole cache is dropped
// whenever the signing keys change (a revoked key must stop verifying at
// once).
//
// An entry leaves the cache when its time is up, looked up again or not
// (otter's expiry, cleaned up about once a second): a burst of one-off
// tokens does not stay in memory until other tokens push it out, where
// the collector would mark it on every cycle whatever the requests are
// (about 1.5-2 µs a request with the cache full, docs/PERFORMANCE.md).
//
// Entries are keyed by the token's SHA-256, and they take about
// verifyCacheBytes in all (verified.weight); otter's admission policy
// (W-TinyLFU) keeps the tokens in steady use when a tour of one-off tokens
// passes through, so memory stays bounded whatever the traffic.
type verifyCache struct {
	ttl time.Duration
	now func() time.Time
	obs Observer

	entries *otter.Cache[[sha256.Size]byte, verified]
}

type verified struct {
	claims *AccessClaims
}

// verifyCacheBytes bounds the verified-token cache's memory: some 8,000
// client-credentials tokens, each kept at most a minute (ttl). It was
// 8 MiB: with the collector's headroom over it, a cache full of one-off
// tokens took the resident set past 64 MiB.
const verifyCacheBytes = 4 << 20

// verifiedSize is the memory of an entry beyond its claims' strings: the
// claims struct and otter's node (with its expiry), with the key and
// value, and table slot (TestVerifyCacheBytes).
const verifiedSize = 176 + 152 + 64 // and the strings' rounding up to their size classes

// weight is about how many bytes of memory v costs in the cache.
func (v verified) weight() uint32 {
	c := v.claims
	n := verifiedSize + len(c.Issuer) + len(c.Subject) + len(c.Audience) + len(c.JTI) + len(c.ClientID) +
		len(c.Scope) + len(c.APIKeyID)
	if c.Cnf != nil {
		n += 16 + len(c.Cnf.JKT)
	}
	return uint32(n)
}

func newVerifyCache(now func() time.Time) *verifyCache {
	c := &verifyCache{ttl: time.Minute, now: now, obs: noObserver{}}
	c.entries = otter.Must(&otter.Options[[sha256.Size]byte, verified]{MaximumWeight: verifyCacheBytes,
		Weigher: func(_ [sha256.Size]byte, v verified) uint32 { return v.weight() },
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[[sha256.Size]byte, verified]) time.Duration {
			return c.lifetime(e.Value.claims)
		}),
		Clock: cacheClock{now}})
	return c
}

// cacheClock is otter's clock for a cache that keeps the provider's time
// (tests set it): entries expire by that time, read once per lookup by
// otter alone, and the periodic clean-up that removes them unasked ticks
// in real time.
type cacheClock struct{ now func() time.Time }

func (c cacheClock) NowNano() int64 { return c.now().UnixNano() }

func (cacheClock) Tick(d time.Duration) <-chan time.Time { return time.Tick(d) }

// lifetime is how long claims may stay cached from now: the cache's TTL,
// or less when the token expires sooner.
func (c *verifyCache) lifetime(claims *AccessClaims) time.Duration {
	return min(c.ttl, time.Unix(claims.ExpiresAt, 0).Sub(c.now()))
}

// tokenKey is the cache's key of token: its SHA-256, computed once per
// request for both get and put. The token is copied to the stack first
// when it fits, since []byte(token) of more than 32 bytes is a heap
// allocation even when it does not escape.
func tokenKey(token string) [sha256.Size]byte {
	var buf [2048]byte
	if len(token) > len(buf) {
		return sha256.Sum256([]byte(token))
	}
	return sha256.Sum256(append(buf[:0], token...))
}

func (c *verifyCache) get(key [sha256.Size]byte) (*AccessClaims, bool) {
	v, ok := c.entries.GetIfPresent(key) // an entry whose lifetime is over is not found
	if !ok {
		c.obs.CacheLookup(CacheJWTVerify, false)
		return nil, false
	}
	c.obs.CacheLookup(CacheJWTVerify, true)
	return v.claims, true
}

func (c *verifyCache) put(key [sha256.Size]byte, claims *AccessClaims) {
	if c.lifetime(claims) <= 0 {
		return
	}
	c.entries.Set(key, verified{claims: claims})
}

// reset drops every entry; it is subscribed to signing-key changes.
func (c *verifyCache) reset(string) {
	c.entries.InvalidateAll()
}
