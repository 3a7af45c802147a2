package authz

import (
	"encoding/json"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/keys/heaptest"

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
	if got := c.len(); got != 2 {
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

// TestVerifyCacheNotScanned: a full verified-token cache adds nothing
// the collector scans (the otter cache it replaced added about 2.7 MB a
// cycle with 7,584 tokens; BenchmarkCacheMarkCost).
func TestVerifyCacheNotScanned(t *testing.T) {
	now := time.Now()
	c := newVerifyCache(func() time.Time { return now })
	runtime.GC()
	runtime.GC()
	empty := heaptest.ScannedLastCycle()
	fillVerifyCache(t, c, now, 12_000)
	if got := c.len(); got < 9_000 { // what the budget holds
		t.Fatalf("%d tokens cached of 12,000", got)
	}
	runtime.GC()
	runtime.GC()
	full := heaptest.ScannedLastCycle()
	if grown := int64(full) - int64(empty); grown > 64<<10 {
		t.Errorf("the collector scans %d bytes a cycle with the cache full, %d with it empty", full, empty)
	}
	runtime.KeepAlive(c)
}

// TestVerifyCacheLetsGo: a sweep drops the entries expired by then, and
// once a burst of one-off tokens has expired the memory that held them
// goes too.
func TestVerifyCacheLetsGo(t *testing.T) {
	now := time.Now()
	c := newVerifyCache(func() time.Time { return now })
	before := heaptest.Live()
	fillVerifyCache(t, c, now, 5_000) // an hour's tokens, kept the cache's minute
	c.put(tokenKey("later"), &AccessClaims{JTI: "later", ExpiresAt: now.Unix() + 3600})
	now = now.Add(30 * time.Second)
	c.put(tokenKey("new"), &AccessClaims{JTI: "new", ExpiresAt: now.Unix() + 3600})
	now = now.Add(31 * time.Second) // the burst's minute is over, not the newest token's
	c.sweep()
	if got := c.len(); got != 1 {
		t.Fatalf("%d entries after the sweep, want the newest token alone", got)
	}
	if _, ok := c.get(tokenKey("new")); !ok {
		t.Fatal("the sweep dropped an entry not expired")
	}
	now = now.Add(time.Minute)
	c.sweep()
	if c.len() != 0 || c.slab.table.Used() != 0 {
		t.Fatalf("%d entries, %d slots after everything expired", c.len(), c.slab.table.Used())
	}
	if grown := heaptest.Live() - before; grown > 256<<10 {
		t.Errorf("the heap is %d bytes larger after the burst expired", grown)
	}
	runtime.KeepAlive(c)
}

// TestPackClaims: claims read back from the cache are the claims put in,
// for every shape a token's claims take (no audience, one, several, a
// confirmation, an API key), and claims too long for an entry are not
// kept.
func TestPackClaims(t *testing.T) {
	long := strings.Repeat("s", 600)
	for name, c := range map[string]*AccessClaims{
		"empty": {},
		"client credentials": {Issuer: "https://id.example.com", Subject: "c1", Audience: json.RawMessage(`["https://api"]`),
			ExpiresAt: 1_900_000_060, IssuedAt: 1_900_000_000, NotBefore: 1_900_000_000, JTI: "j1", ClientID: "c1",
			Scope: "read write", audiences: []string{"https://api"}},
		"aud string, empty list": {Audience: json.RawMessage(`""`), audiences: []string{}, AuthTime: -5},
		"three audiences": {Audience: json.RawMessage(`["a","bb","ccc"]`), audiences: []string{"a", "bb", "ccc"},
			Subject: "ü-user"},
		"DPoP, API key": {Cnf: &Confirmation{JKT: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}, APIKeyID: "key_1",
			APIKeySecret: 3, Scope: long},
		"empty cnf": {Cnf: &Confirmation{}, Scope: long + long},
		"large":     {Scope: long + long + long, Audience: json.RawMessage(`["` + long + `"]`), audiences: []string{long}},
	} {
		b, ok := packClaims(nil, c)
		if !ok {
			t.Fatalf("%s: not packed", name)
		}
		got := unpackClaims(b)
		if !reflect.DeepEqual(got, c) {
			t.Errorf("%s: unpacked\n%+v\nwant\n%+v", name, got, c)
		}
		if got.audiences != nil && cap(got.audiences) != len(got.audiences) {
			t.Errorf("%s: audiences with spare room %d", name, cap(got.audiences))
		}
		if unpackClaims(b[:len(b)-1]) != nil || unpackClaims(append(b, 'x')) != nil {
			t.Errorf("%s: a truncated or longer entry unpacked", name)
		}
	}
	huge := &AccessClaims{Scope: strings.Repeat("s", maxPackedClaims)}
	if _, ok := packClaims(nil, huge); ok {
		t.Error("claims of more than an entry holds packed")
	}
	c := newVerifyCache(time.Now)
	huge.ExpiresAt = time.Now().Unix() + 60
	c.put(tokenKey("huge"), huge)
	if _, ok := c.get(tokenKey("huge")); ok || c.len() != 0 {
		t.Error("claims of more than an entry holds were cached")
	}
}

// BenchmarkVerifyCacheGet is a cached token's lookup: its claims unpacked
// into one allocation.
func BenchmarkVerifyCacheGet(b *testing.B) {
	now := time.Now()
	c := newVerifyCache(func() time.Time { return now })
	fillVerifyCache(b, c, now, 1000)
	key, _ := verifiedTokenOf(500, now.Unix())
	if _, ok := c.get(key); !ok {
		b.Fatal("not cached")
	}
	b.ReportAllocs()
	for b.Loop() {
		c.get(key)
	}
}

// TestVerifyCacheKeepsSteadyTokens: once the slab is full, a token read
// between every two newcomers stays through a tour of ten times the
// cache's size of tokens read once, and an expired entry gives up its slot
// before any other.
func TestVerifyCacheKeepsSteadyTokens(t *testing.T) {
	now := time.Now()
	c := newVerifyCache(func() time.Time { return now })
	c.slab = newClaimSlab(200)
	steady, _ := verifiedTokenOf(-1, now.Unix())
	put := func(i int, iat int64) [32]byte {
		key, payload := verifiedTokenOf(i, iat)
		claims := new(AccessClaims)
		if err := decodeAccessClaims([]byte(payload), claims); err != nil {
			t.Fatal(err)
		}
		claims.audiences = claims.Audiences()
		c.put(key, claims)
		return key
	}
	put(-1, now.Unix())
	for i := range 2000 {
		put(i, now.Unix())
		if _, ok := c.get(steady); !ok {
			t.Fatalf("the token in steady use was evicted after %d newcomers", i+1)
		}
	}
	if got := c.len(); got != 200 {
		t.Errorf("%d entries in a slab of 200", got)
	}
	// Every entry read since the hand last passed, one of them expired:
	// the next newcomer takes the expired one's slot.
	short := put(5000, now.Unix()-3600+1) // expires within a second
	for i := range 2000 {
		key, _ := verifiedTokenOf(i, now.Unix())
		c.get(key)
	}
	c.get(short)
	now = now.Add(2 * time.Second)
	put(5001, now.Unix())
	h, sh := c.slab.locate(&short)
	if findClaims(sh, h, &short) != nil {
		t.Error("a newcomer took a slot read since the hand passed while an expired one was there")
	}
	if _, ok := c.get(steady); !ok {
		t.Error("the token in steady use gave up its slot before an expired one")
	}
}

// TestVerifyCacheOddClaims: claims too long for a slot are cached in the
// odd store and read back whole; two tokens whose keys share the index's
// eight bytes are told apart.
func TestVerifyCacheOddClaims(t *testing.T) {
	now := time.Now()
	c := newVerifyCache(func() time.Time { return now })
	long := &AccessClaims{Issuer: "https://id.example.com", JTI: "j", ClientID: "c", ExpiresAt: now.Unix() + 60,
		Scope: strings.Repeat("scope ", 100)}
	c.put(tokenKey("long"), long)
	if got, ok := c.get(tokenKey("long")); !ok || !reflect.DeepEqual(got, long) {
		t.Errorf("long claims: cached %v, %+v", ok, got)
	}
	if c.odd.EstimatedSize() != 1 || c.slab.len() != 0 {
		t.Errorf("odd %d, slab %d: long claims not in the odd store", c.odd.EstimatedSize(), c.slab.len())
	}
	a, b := tokenKey("a"), tokenKey("a")
	b[31] ^= 1 // the same first eight bytes
	ca := &AccessClaims{JTI: "a", ExpiresAt: now.Unix() + 60}
	cb := &AccessClaims{JTI: "b", ExpiresAt: now.Unix() + 60}
	c.put(a, ca)
	if _, ok := c.get(b); ok {
		t.Error("a token answered with the claims of another of the same index key")
	}
	c.put(b, cb)
	if got, ok := c.get(b); !ok || got.JTI != "b" {
		t.Errorf("second token: %v %+v", ok, got)
	}
	c.reset("")
	if c.len() != 0 {
		t.Errorf("%d entries after reset", c.len())
	}
}

// TestVerifyCacheConcurrent: lookups, puts and resets at once (run with
// -race) answer only the claims put under each key.
func TestVerifyCacheConcurrent(t *testing.T) {
	now := time.Now()
	c := newVerifyCache(func() time.Time { return now })
	c.slab = newClaimSlab(600) // two shards, evicting
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 3000 {
				n := (i*7 + g) % 1500
				key := tokenKey(strconv.Itoa(n))
				if got, ok := c.get(key); ok && got.JTI != strconv.Itoa(n) {
					t.Errorf("token %d answered with %q", n, got.JTI)
					return
				}
				c.put(key, &AccessClaims{JTI: strconv.Itoa(n), ExpiresAt: now.Unix() + 60})
				if g == 0 && i%1000 == 999 {
					c.reset("")
				}
			}
		})
	}
	wg.Wait()
}
