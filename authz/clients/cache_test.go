package clients

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyward/keyward/keys/clocktest"
	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/sqlite"

	"github.com/keyward/keyward/keys/heaptest"
	"github.com/keyward/keyward/store/sqlite/sqlitetest"
)

// countingClients counts the client reads that reach the real store.
type countingClients struct {
	store.ClientStore
	reads atomic.Int64
}

func (c *countingClients) GetClient(ctx context.Context, id string) (*store.Client, error) {
	c.reads.Add(1)
	return c.ClientStore.GetClient(ctx, id)
}

// TestClientCacheReread: a failed authentication re-reads a known client
// at most once per RefreshAge, and never an unknown one, so repeated
// failures do not become a database read each.
func TestClientCacheReread(t *testing.T) {
	ctx := context.Background()
	db := sqlitetest.Open(t)
	if err := db.CreateClient(ctx, &store.Client{ID: "known", Name: "known", SecretDigest: []byte("d")}); err != nil {
		t.Fatal(err)
	}
	cs := &countingClients{ClientStore: db}
	clock := time.Unix(1_700_000_000, 0)
	c := NewCache(cs, func() time.Time { return clock })

	if _, err := c.Get(ctx, "unknown"); err == nil {
		t.Fatal("unknown client found")
	}
	if c.Reread(ctx, "unknown") {
		t.Error("an unknown (negatively cached) id was re-read")
	}
	if _, err := c.Get(ctx, "known"); err != nil {
		t.Fatal(err)
	}
	if !c.Reread(ctx, "known") {
		t.Fatal("the first failure did not re-read the client")
	}
	if _, err := c.Get(ctx, "known"); err != nil {
		t.Fatal(err)
	}
	if c.Reread(ctx, "known") {
		t.Error("a second failure within RefreshAge re-read the client")
	}
	clock = clock.Add(RefreshAge)
	if !c.Reread(ctx, "known") {
		t.Error("a failure after RefreshAge did not re-read the client")
	}
	if n := cs.reads.Load(); n != 4 {
		t.Errorf("%d store reads; want 4: the unknown id once, the known client three times", n)
	}
}

// newCacheFixture returns a cache over the real store, wrapped so that
// reads are counted and can be made to fail, with clients "a" and "b".
func newCacheFixture(t *testing.T) (*Cache, *brokenClients, *sqlite.DB, *clocktest.Clock) {
	t.Helper()
	db := newDB(t)
	ctx := context.Background()
	for _, id := range []string{"a", "b"} {
		if err := db.CreateClient(ctx, &store.Client{ID: id, Name: id, SecretDigest: []byte("d")}); err != nil {
			t.Fatal(err)
		}
	}
	bs := &brokenClients{ClientStore: db}
	clock := newTestClock()
	return NewCache(bs, clock.Now), bs, db, clock
}

// rename changes a client's name in the store behind the cache's back.
func rename(t *testing.T, db *sqlite.DB, id, name string) {
	t.Helper()
	ctx := context.Background()
	c, err := db.GetClient(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	c.Name = name
	if err := db.UpdateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
}

// getName returns the cached client's name, failing the test on an error.
func getName(t *testing.T, c *Cache, id string) string {
	t.Helper()
	cl, err := c.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get(%q): %v", id, err)
	}
	return cl.Name
}

// TestCacheTTL: a known client is read once per CacheTTL when it is not
// asked for within its refresh window; asked for in it, it is read again
// in the background while Gets are answered from memory, and never
// expires while in use.
func TestCacheTTL(t *testing.T) {
	t.Parallel()
	c, bs, db, clock := newCacheFixture(t)
	if got := getName(t, c, "a"); got != "a" {
		t.Fatalf("name %q", got)
	}
	rename(t, db, "a", "a2")
	clock.Add(CacheTTL*4/5 - time.Nanosecond) // before any refresh time
	if got := getName(t, c, "a"); got != "a" || bs.reads.Load() != 1 {
		t.Errorf("within half the TTL: name %q after %d reads; want the cached a after 1", got, bs.reads.Load())
	}
	clock.Add(CacheTTL*3/20 + time.Nanosecond) // past every refresh time
	if got := getName(t, c, "a"); got != "a" {
		t.Errorf("past the refresh time: name %q; want the cached a while the store is read", got)
	}
	c.refreshes.Wait()
	if got := getName(t, c, "a"); got != "a2" || bs.reads.Load() != 2 {
		t.Errorf("after the background read: name %q after %d reads; want a2 after 2", got, bs.reads.Load())
	}
	clock.Add(CacheTTL * 3 / 4) // past the first read's TTL, not the second's
	if got := getName(t, c, "a"); got != "a2" {
		t.Errorf("a client in use expired: name %q", got)
	}
	c.refreshes.Wait()

	// "b", not asked for in its refresh window, expires and is read again
	// on the request's path.
	getName(t, c, "b")
	rename(t, db, "b", "b2")
	before := bs.reads.Load()
	clock.Add(CacheTTL)
	if got := getName(t, c, "b"); got != "b2" || bs.reads.Load() != before+1 {
		t.Errorf("at CacheTTL: name %q after %d reads; want b2 re-read", got, bs.reads.Load()-before)
	}
}

// blockingClients holds each read until release is closed, counting them.
type blockingClients struct {
	store.ClientStore
	release chan struct{}
	reads   atomic.Int64
}

func (b *blockingClients) GetClient(ctx context.Context, id string) (*store.Client, error) {
	if b.reads.Add(1) > 1 {
		<-b.release
	}
	return b.ClientStore.GetClient(ctx, id)
}

// TestCacheRefreshOnce: the Gets past a client's refresh time start one
// background read among them, none of them waits for it, and the read's
// client replaces the cached one.
func TestCacheRefreshOnce(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	ctx := context.Background()
	if err := db.CreateClient(ctx, &store.Client{ID: "a", Name: "a"}); err != nil {
		t.Fatal(err)
	}
	bc := &blockingClients{ClientStore: db, release: make(chan struct{})}
	clock := newTestClock()
	c := NewCache(bc, clock.Now)
	getName(t, c, "a") // the first read is not held
	rename(t, db, "a", "a2")
	clock.Add(CacheTTL * 19 / 20)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if got := getName(t, c, "a"); got != "a" {
				t.Errorf("during the background read: %q, want the cached a", got)
			}
		})
	}
	wg.Wait() // every Get answered while the read is held
	close(bc.release)
	c.refreshes.Wait()
	if n := bc.reads.Load(); n != 2 {
		t.Errorf("%d store reads; want 2, one of them in the background", n)
	}
	if got := getName(t, c, "a"); got != "a2" {
		t.Errorf("after the background read: %q, want a2", got)
	}
}

// TestCacheRefreshSpread: clients read in the same moment get refresh
// times spread over a quarter of the TTL, so they are not read again
// together.
func TestCacheRefreshSpread(t *testing.T) {
	c := newCache(nil, time.Now, CacheBytes)
	lo, hi := time.Duration(1<<62), time.Duration(0)
	for range 1000 {
		d := c.refreshAfter(&cacheEntry{client: &store.Client{}})
		if d < CacheTTL*4/5 || d > CacheTTL*19/20 {
			t.Fatalf("refresh after %v; want between four fifths and nineteen twentieths of %v", d, CacheTTL)
		}
		lo, hi = min(lo, d), max(hi, d)
	}
	if hi-lo < CacheTTL/10 {
		t.Errorf("1,000 refresh times within %v of each other; want spread over about %v", hi-lo, CacheTTL*3/20)
	}
}

// TestCacheRefreshFailures: a background read that fails keeps the cached
// client (until it expires) and is tried again after RefreshAge; one that
// an invalidation overtakes is not kept.
func TestCacheRefreshFailures(t *testing.T) {
	t.Parallel()
	c, bs, db, clock := newCacheFixture(t)
	getName(t, c, "a")
	rename(t, db, "a", "a2")
	clock.Add(CacheTTL * 19 / 20)
	bs.down.Store(true)
	getName(t, c, "a")
	c.refreshes.Wait()
	if got := getName(t, c, "a"); got != "a" || bs.reads.Load() != 2 {
		t.Fatalf("after a failed background read: %q after %d reads; want the cached a after 2", got, bs.reads.Load())
	}
	c.refreshes.Wait()
	if n := bs.reads.Load(); n != 2 {
		t.Fatalf("%d reads: tried again within RefreshAge", n)
	}
	bs.down.Store(false)
	clock.Add(RefreshAge)
	getName(t, c, "a")
	c.refreshes.Wait()
	if got := getName(t, c, "a"); got != "a2" || bs.reads.Load() != 3 {
		t.Errorf("after RefreshAge: %q after %d reads; want a2 after 3", got, bs.reads.Load())
	}

	// An invalidation during the background read wins over it: the
	// client changes (and is announced) after the read saw it.
	cs := &changingClients{ClientStore: db, t: t, db: db}
	rc := NewCache(cs, clock.Now)
	cs.cache = rc
	getName(t, rc, "b")
	clock.Add(CacheTTL * 19 / 20)
	getName(t, rc, "b") // starts the background read, which sees "b"
	rc.refreshes.Wait()
	if got := getName(t, rc, "b"); got != "b-changed" || cs.reads.Load() != 3 {
		t.Errorf("after an invalidation during the background read: %q after %d reads; want b-changed read again",
			got, cs.reads.Load())
	}
}

// changingClients renames the client in the store and invalidates the
// cache right after the second read (a background one), as a change heard
// from another instance while it ran.
type changingClients struct {
	store.ClientStore
	t     *testing.T
	db    *sqlite.DB
	cache *Cache
	reads atomic.Int64
}

func (c *changingClients) GetClient(ctx context.Context, id string) (*store.Client, error) {
	cl, err := c.ClientStore.GetClient(ctx, id)
	if c.reads.Add(1) == 2 {
		rename(c.t, c.db, id, id+"-changed")
		c.cache.Invalidate(id)
	}
	return cl, err
}

// TestCacheNegativeTTL: an unknown id is remembered for NegativeTTL only.
func TestCacheNegativeTTL(t *testing.T) {
	t.Parallel()
	c, bs, db, clock := newCacheFixture(t)
	ctx := context.Background()
	if _, err := c.Get(ctx, "new"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown id: %v; want ErrNotFound", err)
	}
	if err := db.CreateClient(ctx, &store.Client{ID: "new", Name: "new"}); err != nil {
		t.Fatal(err)
	}
	clock.Add(NegativeTTL - time.Nanosecond)
	if _, err := c.Get(ctx, "new"); !errors.Is(err, store.ErrNotFound) || bs.reads.Load() != 1 {
		t.Errorf("within NegativeTTL: %v after %d reads; want the cached ErrNotFound after 1", err, bs.reads.Load())
	}
	clock.Add(time.Nanosecond)
	if got := getName(t, c, "new"); got != "new" || bs.reads.Load() != 2 {
		t.Errorf("at NegativeTTL: %q after %d reads; want the new client re-read", got, bs.reads.Load())
	}
}

// TestCacheStoreFailure: a failing store is never a missing client and is
// never cached; the next Get asks the store again.
func TestCacheStoreFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// warm reads "a" before the outage and lets its entry expire.
		warm bool
	}{
		{name: "cold cache"},
		{name: "expired entry", warm: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, bs, _, clock := newCacheFixture(t)
			ctx := context.Background()
			if tt.warm {
				getName(t, c, "a")
				clock.Add(CacheTTL)
			}
			bs.down.Store(true)
			for range 2 {
				cl, err := c.Get(ctx, "a")
				if !errors.Is(err, errDown) || errors.Is(err, store.ErrNotFound) || cl != nil {
					t.Fatalf("Get during an outage = %v, %v; want the store's failure", cl, err)
				}
			}
			before := bs.reads.Load()
			bs.down.Store(false)
			if got := getName(t, c, "a"); got != "a" || bs.reads.Load() != before+1 {
				t.Errorf("after the outage: %q after %d reads; want a read from the store", got, bs.reads.Load()-before)
			}
		})
	}
}

// TestCacheMalformedID: ids no client can have never reach the store.
func TestCacheMalformedID(t *testing.T) {
	t.Parallel()
	for name, id := range map[string]string{"empty": "", "257 bytes": strings.Repeat("x", 257)} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, bs, _, _ := newCacheFixture(t)
			bs.down.Store(true) // a read would fail with errDown
			if _, err := c.Get(context.Background(), id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Get = %v; want ErrNotFound", err)
			}
			if n := bs.reads.Load(); n != 0 {
				t.Errorf("%d store reads; want none", n)
			}
		})
	}
}

func TestCacheInvalidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		drop    string
		wantA   string
		wantB   string
		wantRds int64
	}{
		{name: "one client", drop: "a", wantA: "a2", wantB: "b", wantRds: 3},
		{name: "resync drops every client", drop: store.Resync, wantA: "a2", wantB: "b2", wantRds: 4},
		{name: "an id not cached", drop: "zzz", wantA: "a", wantB: "b", wantRds: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, bs, db, _ := newCacheFixture(t)
			getName(t, c, "a")
			getName(t, c, "b")
			rename(t, db, "a", "a2")
			rename(t, db, "b", "b2")
			c.Invalidate(tt.drop)
			if a, b := getName(t, c, "a"), getName(t, c, "b"); a != tt.wantA || b != tt.wantB || bs.reads.Load() != tt.wantRds {
				t.Errorf("after Invalidate(%q): names %q %q after %d reads; want %q %q after %d",
					tt.drop, a, b, bs.reads.Load(), tt.wantA, tt.wantB, tt.wantRds)
			}
		})
	}
}

// TestCacheInvalidateNegative: a client created after its id was looked
// up is found at once once announced.
func TestCacheInvalidateNegative(t *testing.T) {
	t.Parallel()
	c, _, db, _ := newCacheFixture(t)
	ctx := context.Background()
	if _, err := c.Get(ctx, "new"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	if err := db.CreateClient(ctx, &store.Client{ID: "new", Name: "new"}); err != nil {
		t.Fatal(err)
	}
	c.Invalidate("new")
	if got := getName(t, c, "new"); got != "new" {
		t.Errorf("name %q", got)
	}
}

// TestCacheBounded: however many clients (and unknown ids) pass through,
// the cache's weight stays within its budget, and a client in steady use
// stays cached (admission, not a reset when full).
func TestCacheBounded(t *testing.T) {
	t.Parallel()
	jwks := strings.Repeat("k", 2000)
	g := getterFunc(func(_ context.Context, id string) (*store.Client, error) {
		if strings.HasPrefix(id, "unknown") {
			return nil, store.ErrNotFound
		}
		return &store.Client{ID: id, Name: id, JWKS: jwks, Scopes: []string{"read"}}, nil
	})
	const budget = 64 << 10
	c := newCache(g, nil, budget)
	ctx := context.Background()
	for i := range 2000 {
		for _, id := range []string{"hot", fmt.Sprintf("client-%d", i), fmt.Sprintf("unknown-%d", i)} {
			c.Get(ctx, id)
		}
	}
	c.entries.CleanUp()
	var weight uint64
	for id, e := range c.entries.All() {
		weight += uint64(entryWeight(id, e))
	}
	if weight > budget {
		t.Errorf("the cache weighs %d bytes, over its budget of %d", weight, budget)
	}
	if _, ok := c.entries.GetIfPresent("hot"); !ok {
		t.Error("the client in steady use was evicted by a tour of clients used once")
	}
}

// TestCacheBytes: a cached client's weight is at least the memory it
// really takes, so the budget bounds the memory.
func TestCacheBytes(t *testing.T) {
	const n = 5000
	g := getterFunc(func(_ context.Context, id string) (*store.Client, error) {
		return &store.Client{ID: strings.Clone(id), Name: "app " + id, SecretDigest: make([]byte, 32),
			GrantTypes: []string{strings.Clone("client_credentials")}, Scopes: []string{strings.Clone("read"), strings.Clone("write")},
			RedirectURIs: []string{"https://app.example.com/callback/" + id}, AccessTokenFormat: strings.Clone("jwt"),
			CreatedAt: time.Now(), UpdatedAt: time.Now()}, nil
	})
	c := newCache(g, nil, CacheBytes)
	ctx := context.Background()
	before := heaptest.Live()
	var weight int64
	for i := range n {
		id := fmt.Sprintf("client-%026d", i)
		cl, err := c.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		weight += int64(entryWeight(id, &cacheEntry{client: cl}))
	}
	c.entries.CleanUp()
	if got := c.entries.EstimatedSize(); got != n {
		t.Fatalf("%d of %d clients cached", got, n)
	}
	heaptest.PerEntry(t, "cached client", before, n, weight/n)
	runtime.KeepAlive(c)
}

type getterFunc func(ctx context.Context, id string) (*store.Client, error)

func (f getterFunc) GetClient(ctx context.Context, id string) (*store.Client, error) {
	return f(ctx, id)
}

// TestCacheRereadAfterRefreshAge: a client re-read by Reread may be
// re-read again once RefreshAge has passed since; a store failure during
// the re-read keeps the cached client, which still answers.
func TestCacheRereadAfterRefreshAge(t *testing.T) {
	t.Parallel()
	c, bs, _, clock := newCacheFixture(t)
	ctx := context.Background()
	getName(t, c, "a")
	if !c.Reread(ctx, "a") {
		t.Fatal("first Reread did not read")
	}
	clock.Add(RefreshAge - time.Nanosecond)
	if c.Reread(ctx, "a") {
		t.Error("Reread within RefreshAge of the last re-read")
	}
	clock.Add(time.Nanosecond)
	bs.down.Store(true)
	if c.Reread(ctx, "a") {
		t.Error("Reread reported a read that failed")
	}
	getName(t, c, "a") // still cached through the outage
	bs.down.Store(false)
	if c.Reread(ctx, "a") {
		t.Error("Reread again within RefreshAge of the failed attempt")
	}
	clock.Add(RefreshAge)
	if !c.Reread(ctx, "a") {
		t.Error("Reread after RefreshAge did not read")
	}
}

// TestCacheRereadAfterInvalidation: an authentication that failed against
// an entry dropped since (a change heard from another process) is worth
// one more try, which reads the store, even when the caller looked at the
// generation only after the invalidation moved it (the entry is dropped
// after the generation moves, and lock-free Gets may see it in between);
// Reread itself reads nothing then. Ids that cannot name a client are
// never worth one.
func TestCacheRereadAfterInvalidation(t *testing.T) {
	t.Parallel()
	c, bs, db, _ := newCacheFixture(t)
	ctx := context.Background()
	getName(t, c, "a")
	rename(t, db, "a", "rotated")
	c.Invalidate("a")
	gen := c.Generation() // after the move: the caller's view in the race
	reads := bs.reads.Load()
	if !c.Reread(ctx, "a") {
		t.Fatal("Reread refused one more try for a client dropped since it was read")
	}
	if n := bs.reads.Load() - reads; n != 0 {
		t.Errorf("Reread of a dropped client read the store %d times; the retry's Get reads it", n)
	}
	if c.Generation() != gen {
		t.Error("Reread moved the generation")
	}
	if got := getName(t, c, "a"); got != "rotated" {
		t.Errorf("the retry read %q, want the client as changed", got)
	}
	for _, id := range []string{"", strings.Repeat("x", 257)} {
		if c.Reread(ctx, id) {
			t.Errorf("Reread of %d-byte id: one more try for an id no client has", len(id))
		}
	}
	if n := bs.reads.Load() - reads; n != 1 {
		t.Errorf("%d store reads; want 1 (the retry's Get)", n)
	}
}

// racingClients deletes the client and invalidates the cache right after
// each read, as a change heard from another instance during the read.
type racingClients struct {
	store.ClientStore
	cache *Cache
}

func (r *racingClients) GetClient(ctx context.Context, id string) (*store.Client, error) {
	c, err := r.ClientStore.GetClient(ctx, id)
	if err == nil {
		_ = r.ClientStore.DeleteClient(ctx, id)
		r.cache.Invalidate(id)
	}
	return c, err
}

// TestCacheInvalidateDuringRead: an invalidation that lands while Get reads
// the store is not lost: the read is not kept (the Get reads again, or
// answers what it read), so the next Get sees the deletion instead of a
// stale client for the cache TTL.
func TestCacheInvalidateDuringRead(t *testing.T) {
	ctx := context.Background()
	db := sqlitetest.Open(t)
	if err := db.CreateClient(ctx, &store.Client{ID: "a", Name: "a"}); err != nil {
		t.Fatal(err)
	}
	rs := &racingClients{ClientStore: db}
	c := NewCache(rs, nil)
	rs.cache = c
	if _, err := c.Get(ctx, "a"); err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	if cl, err := c.Get(ctx, "a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after an invalidation during the read: %v, %v; want ErrNotFound", cl, err)
	}
}

// BenchmarkCacheGet: a Get of a cached client, the token endpoint's and
// every client-authenticated endpoint's lookup.
func BenchmarkCacheGet(b *testing.B) {
	g := getterFunc(func(_ context.Context, id string) (*store.Client, error) {
		return &store.Client{ID: id, Name: id}, nil
	})
	c := NewCache(g, nil)
	ctx := context.Background()
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = fmt.Sprintf("client-%d", i)
		if _, err := c.Get(ctx, ids[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := c.Get(ctx, ids[i%len(ids)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// TestCacheLookups: OnLookup hears of every Get of a cacheable id, once:
// a hit when answered from memory (an unknown id remembered included, and
// a Get that starts a background read), a miss when the store was read
// (or failed); a re-read after a failed authentication is not a lookup.
func TestCacheLookups(t *testing.T) {
	t.Parallel()
	c, bs, _, clock := newCacheFixture(t)
	var hits, misses atomic.Int64
	c.OnLookup = func(hit bool) {
		if hit {
			hits.Add(1)
		} else {
			misses.Add(1)
		}
	}
	ctx := context.Background()
	getName(t, c, "a")    // miss
	getName(t, c, "a")    // hit
	c.Get(ctx, "unknown") // miss
	c.Get(ctx, "unknown") // hit
	c.Get(ctx, "")        // not a lookup
	c.Reread(ctx, "a")    // not a lookup
	clock.Add(CacheTTL * 19 / 20)
	getName(t, c, "a") // hit, starts a background read
	c.refreshes.Wait()
	bs.down.Store(true)
	c.Get(ctx, "b") // miss, the store down
	if h, m := hits.Load(), misses.Load(); h != 3 || m != 3 {
		t.Errorf("%d hits and %d misses; want 3 and 3", h, m)
	}
}

// TestCacheConcurrentMisses: Gets of a client not cached that arrive
// while it is read wait for that read instead of each reading the store
// (a burst of requests for a client after a start or an invalidation).
func TestCacheConcurrentMisses(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var reads atomic.Int64
	g := getterFunc(func(_ context.Context, id string) (*store.Client, error) {
		reads.Add(1)
		<-release
		return &store.Client{ID: id, Name: id}, nil
	})
	c := NewCache(g, nil)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if got := getName(t, c, "a"); got != "a" {
				t.Errorf("name %q", got)
			}
		})
	}
	for reads.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // the other Gets arrive meanwhile
	close(release)
	wg.Wait()
	if n := reads.Load(); n != 1 {
		t.Errorf("%d store reads for 50 concurrent Gets; want 1", n)
	}
}
