package authz

import (
	"testing"
	"time"

	"github.com/keyward/keyward/keys/clocktest"
)

// TestVerifyCacheLifetime: an entry answers until its time is up, which is
// the cache's TTL or its token's expiry, whichever comes first; a token
// already expired is not kept.
func TestVerifyCacheLifetime(t *testing.T) {
	clock := clocktest.At(time.Unix(1_900_000_000, 0))
	c := newVerifyCache(clock.Now)
	now := clock.Now().Unix()
	long, short, gone := tokenKey("long"), tokenKey("short"), tokenKey("gone")
	c.put(long, &AccessClaims{JTI: "long", ExpiresAt: now + 3600})
	c.put(short, &AccessClaims{JTI: "short", ExpiresAt: now + 10})
	c.put(gone, &AccessClaims{JTI: "gone", ExpiresAt: now})
	if got := c.entries.EstimatedSize(); got != 2 {
		t.Errorf("%d entries, want 2: an expired token is not kept", got)
	}
	for _, k := range []struct {
		key  [32]byte
		want bool
	}{{long, true}, {short, true}, {gone, false}} {
		if _, ok := c.get(k.key); ok != k.want {
			t.Errorf("at once: cached %v, want %v", ok, k.want)
		}
	}
	clock.Add(10 * time.Second) // the short token's expiry
	if _, ok := c.get(short); ok {
		t.Error("a token is still cached at its expiry")
	}
	if _, ok := c.get(long); !ok {
		t.Error("a token was dropped before the cache's TTL")
	}
	clock.Add(c.ttl - 10*time.Second)
	if _, ok := c.get(long); ok {
		t.Error("a token is still cached after the cache's TTL")
	}
}

// TestVerifyCacheLetsGo: an entry whose time is up leaves the cache
// without being looked up again, so a burst of one-off tokens does not
// stay in memory (and in the collector's work) until others push it out.
func TestVerifyCacheLetsGo(t *testing.T) {
	t.Parallel()
	c := newVerifyCache(time.Now)
	c.ttl = 300 * time.Millisecond
	exp := time.Now().Add(time.Hour).Unix()
	for i := range 100 {
		c.put(tokenKey(string(rune('a'+i%26))+time.Duration(i).String()), &AccessClaims{JTI: "t", ExpiresAt: exp})
	}
	if got := c.entries.EstimatedSize(); got != 100 {
		t.Fatalf("%d entries cached of 100", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for c.entries.EstimatedSize() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d expired entries still in the cache after 10 s without a lookup", c.entries.EstimatedSize())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
