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
	c.entries.CleanUp()
}

// TestCacheBytesPerKey: with its default budget the key cache holds a
// tour of 100,000 keys whole (the warm rate is the one-key rate), and
// its weight for a key is at least the memory a cached key really takes,
// so the budget bounds the memory.
func TestCacheBytesPerKey(t *testing.T) {
	const n = 100_000
	c := newCache(time.Minute, time.Second, DefaultCacheBytes, time.Now)
	before := heaptest.Live()
	tour(t, c, 0, n, storeShapedKey)
	weight := int64(pack(storeShapedKey(1), scopeSets{}.intern).weight())
	heaptest.PerEntry(t, "cached key", before, n, weight)
	if got := c.entries.EstimatedSize(); got != n {
		t.Errorf("the default cache holds %d of a tour of %d keys", got, n)
	}
	runtime.KeepAlive(c)
}

// TestCacheBytesPerRolledKey: a key that does not pack whole (rolled, two
// secrets in grace) weighs at least the memory it takes too.
func TestCacheBytesPerRolledKey(t *testing.T) {
	const n = 20_000
	rolled := func(i int) *APIKey {
		k := storeShapedKey(i)
		now := time.Now().UTC()
		k.Secrets = append(k.Secrets, SecretDigest{Digest: make([]byte, 32), CreatedAt: now.Add(-time.Hour),
			ValidUntil: now.Add(time.Hour)})
		return k
	}
	c := newCache(time.Minute, time.Second, DefaultCacheBytes, time.Now)
	before := heaptest.Live()
	tour(t, c, 0, n, rolled)
	p := pack(rolled(1), scopeSets{}.intern)
	if p.odd == nil {
		t.Fatal("a rolled key packed whole")
	}
	heaptest.PerEntry(t, "cached rolled key", before, n, int64(p.weight()))
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
	// It holds about as many keys as their weight says fit, and not far
	// fewer (otter's admission turns newcomers away on a tour).
	fit := budget / int(pack(storeShapedKey(1), scopeSets{}.intern).weight())
	if n := c.entries.EstimatedSize(); n < fit/2 || n > fit*11/10 {
		t.Errorf("a cache of %d bytes holds %d keys; %d fit", budget, n, fit)
	}
	runtime.KeepAlive(c)
}
