package keys

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/keys/heaptest"
)

// storeShapedKey is a record as a store's GetAPIKey returns it: every
// string and slice allocated apart, one current secret.
func storeShapedKey(i int) *APIKey {
	id := fmt.Sprintf("%022d", i)
	now := time.Now().UTC()
	return &APIKey{ID: strings.Clone(id), Env: strings.Clone(EnvLive), Name: fmt.Sprintf("bench-%d", i),
		Hint: "kw_live_" + id[:6] + "…abcd", Scopes: []string{strings.Clone("read")}, CreatedAt: now, UpdatedAt: now,
		Metadata: map[string]string{"team": "a"}, Secrets: []SecretDigest{{Digest: make([]byte, 32), CreatedAt: now}}}
}

// tour verifies keys first..last-1 through c, each as a request would:
// its id a part of the whole key string; record makes the store's record
// of key i.
func tour(t *testing.T, c *cache, first, last int, record func(int) *APIKey) {
	t.Helper()
	ctx := context.Background()
	for i := first; i < last; i++ {
		raw := fmt.Sprintf("kw_live_%022d_%s", i, strings.Repeat("s", 32))
		id := raw[8:30]
		k, err := c.get(ctx, id, func(context.Context, string) (*APIKey, error) { return record(i), nil })
		if err != nil || k.ID != id {
			t.Fatalf("key %d: %v, %+v", i, err, k)
		}
	}
}

// TestCacheBytesPerKey: with its default budget the key cache holds a
// tour of 100,000 keys whole (the warm rate is the one-key rate), rolled
// keys (two secrets, one in grace) in the slab too, and slotBytes is at
// least the memory a cached key really takes, so the budget bounds the
// memory.
func TestCacheBytesPerKey(t *testing.T) {
	for _, tc := range []struct {
		what   string
		n      int
		record func(int) *APIKey
	}{{"cached key", 100_000, storeShapedKey}, {"cached rolled key", 20_000, rolledKey}} {
		c := newCache(time.Minute, time.Second, DefaultCacheBytes, time.Now)
		before := heaptest.Live()
		tour(t, c, 0, tc.n, tc.record)
		heaptest.PerEntry(t, tc.what, before, tc.n, slotBytes)
		if got := c.slab.len(); got != tc.n {
			t.Errorf("the default cache's slab holds %d of a tour of %d: %s", got, tc.n, tc.what)
		}
		runtime.KeepAlive(c)
	}
}

func rolledKey(i int) *APIKey {
	k := storeShapedKey(i)
	now := time.Now().UTC()
	k.Secrets = append(k.Secrets, SecretDigest{Digest: make([]byte, 32), CreatedAt: now.Add(-time.Hour),
		ValidUntil: now.Add(time.Hour)})
	return k
}

// TestCacheBytesPerOddKey: a key that does not pack into a slot (three
// secrets) goes to the odd store, which weighs it at least the memory it
// takes and holds about its share of the budget.
func TestCacheBytesPerOddKey(t *testing.T) {
	const n = 20_000
	odd := func(i int) *APIKey {
		k, now := storeShapedKey(i), time.Now().UTC()
		k.Secrets = []SecretDigest{k.Secrets[0], // as a store reads them: the slice as long as its contents
			{Digest: make([]byte, 32), CreatedAt: now.Add(-time.Hour), ValidUntil: now.Add(time.Hour)},
			{Digest: make([]byte, 32), CreatedAt: now.Add(-2 * time.Hour), ValidUntil: now.Add(time.Minute)}}
		return k
	}
	c := newCache(time.Minute, time.Second, DefaultCacheBytes, time.Now)
	before := heaptest.Live()
	tour(t, c, 0, n, odd)
	held := c.len()
	if c.slab.len() != 0 || held == 0 {
		t.Fatalf("the slab holds %d keys of three secrets, the odd store %d", c.slab.len(), held)
	}
	p := pack(odd(1), newScopeTable().internList)
	if p.odd == nil {
		t.Fatal("a key of three secrets packed whole")
	}
	heaptest.PerEntry(t, "cached odd key", before, held, int64(p.weight()))
	if fit := DefaultCacheBytes / oddShare / int(p.weight()); held < fit/2 || held > fit*11/10 {
		t.Errorf("the odd store holds %d keys; %d fit", held, fit)
	}
	runtime.KeepAlive(c)
}

// TestCacheMemoryBounded: however many keys are verified, the cache's
// memory stays within its budget.
func TestCacheMemoryBounded(t *testing.T) {
	const budget = 4 << 20
	c := newCache(time.Minute, time.Second, budget, time.Now)
	before := heaptest.Live()
	tour(t, c, 0, 60_000, storeShapedKey) // about 6 times what fits
	heaptest.Bounded(t, budget, before)
	// It holds about as many keys as fit, and not far fewer.
	fit := budget / slotBytes
	if n := c.len(); n < fit*9/10 || n > fit*11/10 {
		t.Errorf("a cache of %d bytes holds %d keys; %d fit", budget, n, fit)
	}
	runtime.KeepAlive(c)
}
