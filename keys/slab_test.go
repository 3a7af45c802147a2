package keys

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/keys/clocktest"
	"github.com/keyward/keyward/store"
)

func slabKeyOf(id string, secrets int) *APIKey {
	k := &APIKey{ID: id, Env: EnvLive, OwnerType: OwnerUser, OwnerID: "owner-" + id}
	for i := range secrets {
		k.Secrets = append(k.Secrets, SecretDigest{Digest: make([]byte, 32), CreatedAt: time.Unix(int64(1000+i), 0).UTC()})
		k.Secrets[i].Digest[0] = byte(i + 1)
	}
	return k
}

// TestSlabHashCollision: a slot found through another id's hash is not
// that id's record (the index is keyed by a 64-bit hash of the id).
func TestSlabHashCollision(t *testing.T) {
	s := newSlab(100)
	scopes := newScopeTable()
	now := time.Now().UnixNano()
	s.put("a", slabKeyOf("a", 1), now+int64(time.Minute), 0)
	ha, sh := s.locate("a")
	hb, shb := s.locate("b")
	if sh != shb {
		t.Skip("a and b hash to different shards")
	}
	i, _ := sh.Find(ha)
	sh.Alias(hb, i) // as if b's hash were a's
	if k, ok, _ := s.get("b", now, int64(time.Hour), scopes); ok {
		t.Fatalf("b read a's record: %+v", k)
	}
	s.remove("b")
	if _, ok, _ := s.get("a", now, int64(time.Hour), scopes); !ok {
		t.Fatal("removing b dropped a")
	}
}

// TestSlabSweepReusesSlots: expired records are dropped by sweep and their
// slots serve new records, so a slab refilled many times holds no more
// slots than its size (and nearly as many records: a shard short of free
// slots when another has some evicts one of its own, about 1.6% of the
// records here, 5% being five standard deviations away).
func TestSlabSweepReusesSlots(t *testing.T) {
	const n = 10_000
	s := newSlab(n)
	now := time.Now().UnixNano()
	for round := range 5 {
		for i := range n {
			id := fmt.Sprintf("r%d-%d", round, i)
			s.put(id, slabKeyOf(id, 1), now+1, 0)
		}
		if got := s.len(); got < n*95/100 || got > n {
			t.Fatalf("round %d: %d records, want %d", round, got, n)
		}
		if _, ok, _ := s.get(fmt.Sprintf("r%d-7", round), now+1, int64(time.Hour), newScopeTable()); ok {
			t.Fatal("an expired record was read")
		}
		s.sweep(now + 1)
		if got := s.len(); got != 0 {
			t.Fatalf("round %d: %d records after the sweep", round, got)
		}
	}
	if used := s.table.Used(); used > n {
		t.Fatalf("%d slots handed out for a slab of %d", used, n)
	}
	s.clear()
	if used := s.table.Used(); used != 0 {
		t.Fatalf("%d slots counted after clear", used)
	}
}

// TestCacheMovesKeysBetweenStores: a key that stops packing (a third
// secret) leaves the slab for the odd store and comes back when it packs
// again; invalidation drops it from either.
func TestCacheMovesKeysBetweenStores(t *testing.T) {
	c := newCache(time.Minute, time.Second, DefaultCacheBytes, time.Now)
	ctx := context.Background()
	secrets := 1
	reads := 0
	fetch := func(_ context.Context, id string) (*APIKey, error) {
		reads++
		return slabKeyOf(id, secrets), nil
	}
	for _, n := range []int{1, 3, 2, 1} {
		secrets = n
		c.invalidate("k")
		k, err := c.get(ctx, "k", fetch)
		if err != nil || len(k.Secrets) != n {
			t.Fatalf("%d secrets: %v, %+v", n, err, k)
		}
		if inSlab := c.slab.len() == 1; inSlab != (n <= 2) || c.len() != 1 {
			t.Fatalf("%d secrets: the slab holds %d, the cache %d", n, c.slab.len(), c.len())
		}
		if k, _ := c.get(ctx, "k", fetch); len(k.Secrets) != n || reads != 1 {
			t.Fatalf("%d secrets: read %d times, cached %+v", n, reads, k)
		}
		reads = 0
	}
	c.invalidate(resync)
	if c.len() != 0 {
		t.Fatalf("%d keys after a resync", c.len())
	}
}

// TestSlabConcurrent: readers, writers and removals of the same ids at
// once (run with -race) never see one id's record under another, nor a
// record half written.
func TestSlabConcurrent(t *testing.T) {
	s := newSlab(64) // smaller than the ids: writes evict
	scopes := newScopeTable()
	ids := make([]string, 256)
	for i := range ids {
		ids[i] = fmt.Sprintf("id-%03d", i)
	}
	until := time.Now().Add(time.Hour).UnixNano()
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20_000 {
				id := ids[(i*7+w*31)%len(ids)]
				switch i % 5 {
				case 0:
					s.put(id, slabKeyOf(id, 1+i%2), until, 0)
				case 1:
					s.remove(id)
				default:
					k, ok, _ := s.get(id, 0, int64(time.Hour), scopes)
					if ok && (k.ID != id || k.OwnerID != "owner-"+id || len(k.Secrets) == 0 || k.Secrets[0].Digest[0] != 1) {
						select {
						case errs <- fmt.Sprintf("read %s, got %+v", id, k):
						default:
						}
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if n := s.len(); n > 64+s.table.Shards() {
		t.Errorf("%d records in a slab of 64", n)
	}
}

// TestVerifiedRecordIsNotKept: the record a verification answers with is
// the caller's alone: neither the key's usage count nor its rate-limit
// window keeps it (nor, through its id, the memory it came in) once the
// caller lets it go.
func TestVerifiedRecordIsNotKept(t *testing.T) {
	f := newFixture(t, nil)
	k, raw := f.create(t, CreateParams{OwnerType: OwnerUser, OwnerID: "u1", RateLimit: RateLimit{Limit: 100, Period: time.Hour}})
	// Fill the cache without counting, so that the verification below is
	// the first to count the key and to open its window.
	if _, err := f.svc.Bound(context.Background(), Binding{KeyID: k.ID}); err != nil {
		t.Fatal(err)
	}
	freed := make(chan struct{})
	func() {
		r, err := f.svc.Verify(context.Background(), raw, "")
		if err != nil || !r.Valid {
			t.Fatalf("%v, %+v", err, r)
		}
		runtime.AddCleanup(r.Key, func(ch chan struct{}) { close(ch) }, freed)
	}()
	deadline := time.After(5 * time.Second)
	for {
		runtime.GC()
		select {
		case <-freed:
			if f.svc.usage.pending.Load() != 1 {
				t.Fatalf("%d keys' usage pending, want 1", f.svc.usage.pending.Load())
			}
			return
		case <-deadline:
			t.Fatal("the verified record is still in memory: something keeps it")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// refreshStore serves a key whose owner names how many times it was
// read, failing with err when set, and holding reads while hold is set.
type refreshStore struct {
	mu    sync.Mutex
	reads int
	err   error
	hold  chan struct{}
}

func (r *refreshStore) fetch(_ context.Context, id string) (*APIKey, error) {
	r.mu.Lock()
	r.reads++
	n, err, hold := r.reads, r.err, r.hold
	r.mu.Unlock()
	if hold != nil {
		<-hold
	}
	if err != nil {
		return nil, err
	}
	k := slabKeyOf(id, 1)
	k.OwnerID = fmt.Sprintf("read-%d", n)
	return k, nil
}

func (r *refreshStore) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reads
}

// refreshTTL is the key cache's TTL in the refresh tests.
const refreshTTL = 30 * time.Second

// newRefreshFixture is a key cache of refreshTTL on a settable clock, and
// the store its gets read through.
func newRefreshFixture() (*cache, *clocktest.Clock, *refreshStore) {
	clk := newClock()
	return newCache(refreshTTL, time.Second, DefaultCacheBytes, clk.Now), clk, &refreshStore{}
}

// TestCacheRefreshesKeysInUse: a key asked for past its refresh time
// (between four fifths and nineteen twentieths of the TTL) is read again in the
// background, once however many ask, while every get is answered from
// memory; the new record replaces the old, so a key in use never expires.
func TestCacheRefreshesKeysInUse(t *testing.T) {
	c, clk, rs := newRefreshFixture()
	ctx := context.Background()
	owner := func() string {
		t.Helper()
		k, err := c.get(ctx, "k", rs.fetch)
		if err != nil {
			t.Fatal(err)
		}
		return k.OwnerID
	}
	if got := owner(); got != "read-1" {
		t.Fatalf("first get: %s", got)
	}
	clk.Add(refreshTTL*4/5 - time.Nanosecond)
	if got := owner(); got != "read-1" || rs.count() != 1 {
		t.Fatalf("before the refresh time: %s after %d reads", got, rs.count())
	}
	clk.Add(refreshTTL*3/20 + time.Nanosecond)
	rs.mu.Lock()
	rs.hold = make(chan struct{})
	rs.mu.Unlock()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if k, err := c.get(ctx, "k", rs.fetch); err != nil || k.OwnerID != "read-1" {
				t.Errorf("during the background read: %v, %+v", err, k)
			}
		})
	}
	wg.Wait() // none waited for the held read
	rs.mu.Lock()
	close(rs.hold)
	rs.hold = nil
	rs.mu.Unlock()
	c.refreshes.Wait()
	if got := owner(); got != "read-2" || rs.count() != 2 {
		t.Fatalf("after the background read: %s after %d reads; want read-2 after 2", got, rs.count())
	}
	for range 4 { // in use across several TTLs: always answered from memory
		clk.Add(refreshTTL * 19 / 20)
		owner()
		c.refreshes.Wait()
	}
	if got := owner(); got != "read-6" || rs.count() != 6 {
		t.Errorf("after four more refresh times: %s after %d reads; want read-6 after 6", got, rs.count())
	}
}

// TestCacheRefreshSpread: keys loaded in the same moment fall due for
// their background read over three twentieths of the TTL, not together.
func TestCacheRefreshSpread(t *testing.T) {
	const ttl = int64(30 * time.Second)
	s := newSlab(2000)
	var lo, hi int64 = 1 << 62, 0
	for i := range 1000 {
		id := fmt.Sprintf("key-%d", i)
		s.put(id, slabKeyOf(id, 1), ttl, 0) // loaded at 0
		h, sh := s.locate(id)
		_, sl := find(sh, h, id)
		due := ttl * 4 / 5 // the first moment it is due
		for !sl.refreshDue(due, ttl) {
			due += int64(10 * time.Millisecond)
		}
		if due > ttl*19/20+int64(10*time.Millisecond) {
			t.Fatalf("%s due after %v", id, time.Duration(due))
		}
		lo, hi = min(lo, due), max(hi, due)
	}
	if time.Duration(hi-lo) < time.Duration(ttl)/10 {
		t.Errorf("1,000 keys due within %v of each other", time.Duration(hi-lo))
	}
}

// TestCacheRefreshFailures: a background read that fails keeps the record
// (until it expires) and is tried again staleAfter later; one that an
// invalidation overtakes is not kept; a key gone from the store is
// dropped.
func TestCacheRefreshFailures(t *testing.T) {
	c, clk, rs := newRefreshFixture()
	ctx := context.Background()
	get := func() (*APIKey, error) { return c.get(ctx, "k", rs.fetch) }
	if _, err := get(); err != nil {
		t.Fatal(err)
	}
	clk.Add(refreshTTL * 19 / 20)
	rs.err = errors.New("database unavailable")
	get()
	c.refreshes.Wait()
	get() // within staleAfter of the failed read: no new one
	c.refreshes.Wait()
	if k, err := get(); err != nil || k.OwnerID != "read-1" || rs.count() != 2 {
		t.Fatalf("after a failed background read: %v, %+v after %d reads", err, k, rs.count())
	}
	rs.err = nil
	clk.Add(staleAfter)
	get()
	c.refreshes.Wait()
	if k, _ := get(); k.OwnerID != "read-3" {
		t.Fatalf("tried again after staleAfter: %+v", k)
	}

	// An invalidation while the background read runs wins over it.
	clk.Add(refreshTTL * 19 / 20)
	rs.hold = make(chan struct{})
	get()
	c.invalidate("k")
	close(rs.hold)
	c.refreshes.Wait()
	rs.hold = nil
	if c.len() != 0 {
		t.Fatalf("the overtaken background read was kept")
	}

	// A key gone from the store is dropped by its background read.
	get()
	clk.Add(refreshTTL * 19 / 20)
	rs.err = store.ErrNotFound
	get()
	c.refreshes.Wait()
	if c.len() != 0 {
		t.Fatalf("a key gone from the store is still cached")
	}
}
