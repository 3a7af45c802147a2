package authz

import (
	"crypto/sha256"
	"slices"
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
// The claims are kept packed (packClaims) in a claimSlab, memory that
// holds no pointers, so the collector never scans them: an otter cache of
// claims structs and their strings, full, cost it 2.7 MB more to scan on
// every cycle, whatever the requests were (BenchmarkCacheMarkCost,
// docs/PERFORMANCE.md). A lookup unpacks the claims into one new
// allocation (unpackClaims). Claims too long for a slot go to an otter
// cache of their own (odd) with a sixteenth of the budget.
//
// The slab's CLOCK eviction keeps the tokens in steady use when a tour of
// one-off tokens passes through, and memory stays bounded whatever the
// traffic; expired entries leave at the next sweep. Entries are keyed by
// the token's SHA-256.
type verifyCache struct {
	ttl time.Duration
	now func() time.Time
	obs Observer

	slab *claimSlab
	odd  *otter.Cache[[sha256.Size]byte, oddClaims]
}

// oddClaims is an entry of the odd store: packed claims longer than a
// slot holds, and how long they are kept.
type oddClaims struct {
	packed []byte
	life   time.Duration
}

// oddClaimsSize is the memory of an odd entry beyond its packed bytes:
// otter's node with its key and value, and its table slot.
const oddClaimsSize = 160

// verifyCacheBytes bounds the verified-token cache's memory: some 9,600
// client-credentials tokens in the slab (claimSlotBytes and its index
// entry each), each kept at most a minute (ttl).
const verifyCacheBytes = 4 << 20

// verifyOddShare is the part of verifyCacheBytes the odd store may hold.
const verifyOddShare = 16

// maxPackedClaims is the most packed claims the odd store keeps: a token
// longer than that is verified every time.
const maxPackedClaims = 4096

func newVerifyCache(now func() time.Time) *verifyCache {
	oddBytes := verifyCacheBytes / verifyOddShare
	return &verifyCache{ttl: time.Minute, now: now, obs: noObserver{},
		slab: newClaimSlab((verifyCacheBytes - oddBytes) / (claimSlotBytes + claimSlotIndexBytes)),
		odd: otter.Must(&otter.Options[[sha256.Size]byte, oddClaims]{MaximumWeight: uint64(oddBytes),
			Weigher: func(_ [sha256.Size]byte, v oddClaims) uint32 { return uint32(oddClaimsSize + cap(v.packed)) },
			ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[[sha256.Size]byte, oddClaims]) time.Duration {
				return e.Value.life
			}),
			Clock: cacheClock{now}})}
}

// cacheClock is otter's clock for a cache that keeps the provider's time
// (tests set it): entries expire by that time, and the periodic clean-up
// that removes them unasked ticks in real time.
type cacheClock struct{ now func() time.Time }

func (c cacheClock) NowNano() int64 { return c.now().UnixNano() }

func (cacheClock) Tick(d time.Duration) <-chan time.Time { return time.Tick(d) }

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
	var claims *AccessClaims
	if !c.slab.get(&key, c.now().UnixNano(), func(b []byte) { claims = unpackClaims(b) }) {
		if v, ok := c.odd.GetIfPresent(key); ok { // an entry whose lifetime is over is not found
			claims = unpackClaims(v.packed)
		}
	}
	if claims == nil {
		c.obs.CacheLookup(CacheJWTVerify, false)
		return nil, false
	}
	c.obs.CacheLookup(CacheJWTVerify, true)
	return claims, true
}

func (c *verifyCache) put(key [sha256.Size]byte, claims *AccessClaims) {
	now := c.now()
	life := min(c.ttl, time.Unix(claims.ExpiresAt, 0).Sub(now))
	if life <= 0 {
		return
	}
	var buf [claimSlotData]byte
	packed, ok := packClaims(buf[:0], claims)
	switch {
	case !ok:
		// Claims too long for an entry: verified every time.
	case len(packed) <= claimSlotData:
		c.slab.put(&key, packed, now.UnixNano(), now.Add(life).UnixNano())
	default:
		c.odd.Set(key, oddClaims{packed: slices.Clone(packed), life: life}) // not buf, which then stays on the stack
	}
}

// sweep drops the entries expired now; once none is left in a shard, its
// memory goes too (Provider.Run calls it periodically, so a burst of
// one-off tokens does not stay resident).
func (c *verifyCache) sweep() {
	c.slab.sweep(c.now().UnixNano())
}

// reset drops every entry; it is subscribed to signing-key changes.
func (c *verifyCache) reset(string) {
	c.slab.clear()
	c.odd.InvalidateAll()
}

// len is how many entries the cache holds, expired ones not yet replaced
// among them.
func (c *verifyCache) len() int {
	c.odd.CleanUp()
	return c.slab.len() + c.odd.EstimatedSize()
}
