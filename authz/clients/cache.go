package clients

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/maypok86/otter/v2"

	"github.com/keyward/keyward/store"
)

// Channel is the events channel on which a changed client's id is
// announced, so every instance drops it from its cache.
const Channel = "keyward_clients"

// Getter reads one client (store.ClientStore does): store.ErrNotFound
// for an unknown id.
type Getter interface {
	GetClient(ctx context.Context, id string) (*store.Client, error)
}

// Cache keeps clients in memory so the token endpoint does not read the
// database per request. Entries live for a TTL (the safety net behind the
// event-driven Invalidate); unknown ids are remembered for a shorter one.
// A store failure is returned, never cached. Concurrent Gets of a client
// not cached wait for one read among them.
//
// A client in use is read again before its TTL runs out, in the
// background: the first Get past the entry's refresh time (between four
// fifths and nineteen twentieths of the TTL, drawn for each read so that
// clients read together are not read again together) starts one read and
// is answered from memory, as are the Gets while it runs. Only a client
// not asked for in that window waits for a read when it is next asked
// for. Without it, every client loaded in the same moment (after a start,
// say) expired in the same moment too: a thousand clients were a thousand
// store reads within 100 ms every TTL, on the requests' path.
//
// The reads, the background ones and their timing, and discarding a read
// that an invalidation overtook are otter's (Cache.Get with a Loader, a
// RefreshCalculator); what is Keyward's is what an entry holds and when
// it is read again (refreshAfter, Reread).
type Cache struct {
	store  Getter
	ttl    time.Duration
	negTTL time.Duration
	now    func() time.Time
	// OnLookup, when set before the cache is used, is told of every Get:
	// hit when it was answered from memory (an unknown id remembered as
	// such included), for metrics. It must be fast and never block.
	OnLookup func(hit bool)

	mu      sync.Mutex    // serializes Reread's writes with Invalidate
	gen     atomic.Uint64 // bumped by every Invalidate, under mu
	entries *otter.Cache[string, *cacheEntry]
	loader  otter.Loader[string, *cacheEntry]

	refreshes sync.WaitGroup // the background reads under way (tests wait for them)
}

// cacheEntry is a client, or an unknown id (err store.ErrNotFound).
type cacheEntry struct {
	client *store.Client
	err    error
	// noRefreshBefore is when a failed authentication may next re-read
	// the client (Reread), in Unix nanoseconds.
	noRefreshBefore atomic.Int64
}

// Cache lifetimes: a known client for CacheTTL, an unknown id for
// NegativeTTL; RefreshAge is how often a failed authentication may re-read
// a known client, and how soon a failed background read is tried again.
// CacheBytes bounds the cache's memory (entryWeight: some 8,000 clients of
// a usual size); otter's W-TinyLFU admission keeps the clients in steady
// use when unknown ids or rare clients pass through.
const (
	CacheTTL    = 30 * time.Second
	NegativeTTL = 5 * time.Second
	RefreshAge  = time.Second
	CacheBytes  = 8 << 20
)

// NewCache returns an empty cache over s; now is the clock, nil for the
// real one.
func NewCache(s Getter, now func() time.Time) *Cache { return newCache(s, now, CacheBytes) }

// realTime is the clock of caches on the real time: read every 100 ms, so
// that reading it costs a load. otter reads its clock on each step of a
// Get: with time.Now as its clock a cached Get took 190-280 ns on this
// project's machines, over half of it reading the time, and 120-150 ns
// with this one (BenchmarkCacheGet). Entries then expire or fall due up to
// 100 ms late or early, against a TTL of 30 s.
var realTime = sync.OnceValue(func() *otter.CoarseClock { return otter.NewCoarseClock(100 * time.Millisecond) })

func newCache(s Getter, now func() time.Time, maxBytes uint64) *Cache {
	var ticks otter.Clock
	if now == nil {
		now = time.Now
		ticks = realTime()
	} else {
		ticks = clock{now}
	}
	c := &Cache{store: s, ttl: CacheTTL, negTTL: NegativeTTL, now: now}
	c.loader = loader{c}
	c.entries = otter.Must(&otter.Options[string, *cacheEntry]{
		MaximumWeight: maxBytes,
		Weigher:       entryWeight,
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, *cacheEntry]) time.Duration {
			if e.Value.client == nil {
				return c.negTTL
			}
			return c.ttl
		}),
		RefreshCalculator: newRefreshPolicy(c),
		StatsRecorder:     lookups{c},
		Clock:             ticks,
		// A failed background read keeps the entry and is tried again
		// after RefreshAge: during an outage, a line per client and
		// second. The outage shows where it matters (503s, readiness).
		Logger: &otter.NoopLogger{},
		Executor: func(fn func()) {
			c.refreshes.Add(1)
			go func() {
				defer c.refreshes.Done()
				fn()
			}()
		},
	})
	return c
}

// entryWeight is about how many bytes of memory a cached client (or an
// unknown id) takes: the record, its strings and lists (each element
// counted with its header), the entry, and otter's node (TestCacheBytes).
func entryWeight(id string, e *cacheEntry) uint32 {
	n := 256 + len(id)
	if c := e.client; c != nil {
		n += int(unsafe.Sizeof(*c)) + len(c.ID) + len(c.Name) + len(c.SecretDigest) + len(c.AccessTokenFormat) +
			len(c.IDTokenAlg) + len(c.BackchannelLogoutURI) + len(c.MFA) + len(c.RegistrationTokenDigest) +
			len(c.RegistrationMetadata) + len(c.AuthMethod) + len(c.JWKS) + len(c.JWKSURI) + len(c.Profile) + len(c.LogoURI)
		for _, list := range [][]string{c.GrantTypes, c.Scopes, c.RedirectURIs, c.PostLogoutRedirectURIs, c.Audience, c.Resources} {
			for _, v := range list {
				n += 16 + 8 + len(v)
			}
		}
	}
	return uint32(min(n, math.MaxUint32))
}

// Get returns the client, store.ErrNotFound, or the store's failure.
func (c *Cache) Get(ctx context.Context, id string) (*store.Client, error) {
	if !cacheable(id) {
		return nil, store.ErrNotFound
	}
	if _, ok := c.entries.GetEntryQuietly(id); !ok {
		// Kept as the entry's key: not the request's string, which would
		// stay in memory with it (the Basic header, secret included).
		id = strings.Clone(id)
	}
	e, err := c.entries.Get(ctx, id, c.loader)
	if err != nil {
		return nil, err
	}
	return e.client, e.err
}

// cacheable reports whether id may name a client: ids outside it are
// refused without a read, and never kept.
func cacheable(id string) bool { return id != "" && len(id) <= 256 }

// read is the entry of id as the store has it now: a client, an unknown
// id, or an error for a store failure (never cached).
func (c *Cache) read(ctx context.Context, id string) (*cacheEntry, error) {
	sc, err := c.store.GetClient(ctx, id)
	switch {
	case err == nil:
		return &cacheEntry{client: sc}, nil
	case errors.Is(err, store.ErrNotFound):
		return &cacheEntry{err: store.ErrNotFound}, nil
	}
	return nil, err
}

// refreshAfter is when entry e, just read, falls due for a background
// read: for a client, between four fifths and nineteen twentieths of the
// TTL, late, so that a client in use is read about as often as one that
// expires (once in 26 s on average, against 30), early enough to spread
// the reads over 4.5 s; an unknown id never (it expires first).
func (c *Cache) refreshAfter(e *cacheEntry) time.Duration {
	if e.client == nil {
		return 2 * c.negTTL
	}
	return c.ttl*4/5 + rand.N(c.ttl*3/20+1)
}

// refreshTimeout bounds a background read.
const refreshTimeout = 10 * time.Second

// loader reads clients for the cache: on a miss (Load, the caller's
// context) and in the background (Reload, its own, bounded).
type loader struct{ c *Cache }

func (l loader) Load(ctx context.Context, id string) (*cacheEntry, error) { return l.c.read(ctx, id) }

func (l loader) Reload(ctx context.Context, id string, old *cacheEntry) (*cacheEntry, error) {
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	e, err := l.c.read(ctx, id)
	if err == nil {
		e.noRefreshBefore.Store(old.noRefreshBefore.Load())
	}
	return e, err
}

// refreshPolicy is the cache's otter.RefreshCalculator: otter's own
// RefreshWritingFunc (refreshAfter for every entry written or read again),
// except after a failed background read, which otter would leave due at
// once (every Get starting another read of a store that is down): it is
// due again after RefreshAge, and the entry stays until it expires.
type refreshPolicy struct {
	otter.RefreshCalculator[string, *cacheEntry]
}

func newRefreshPolicy(c *Cache) refreshPolicy {
	return refreshPolicy{otter.RefreshWritingFunc(func(e otter.Entry[string, *cacheEntry]) time.Duration {
		return c.refreshAfter(e.Value)
	})}
}

func (refreshPolicy) RefreshAfterReloadFailure(otter.Entry[string, *cacheEntry], error) time.Duration {
	return RefreshAge
}

// lookups tells OnLookup of otter's hits and misses; the rest of otter's
// statistics are not kept.
type lookups struct{ c *Cache }

func (l lookups) RecordHits(n int)              { l.record(true, n) }
func (l lookups) RecordMisses(n int)            { l.record(false, n) }
func (lookups) RecordEviction(uint32)           {}
func (lookups) RecordLoadSuccess(time.Duration) {}
func (lookups) RecordLoadFailure(time.Duration) {}
func (l lookups) record(hit bool, n int) {
	if f := l.c.OnLookup; f != nil {
		for range n {
			f(hit)
		}
	}
}

// clock is a settable clock (tests') for otter, without periodic
// clean-ups: expired entries are dropped when met and when the cache is
// written to.
type clock struct{ now func() time.Time }

func (c clock) NowNano() int64 { return c.now().UnixNano() }

func (clock) Tick(time.Duration) <-chan time.Time { return nil }

// Generation changes whenever a client is invalidated: a caller that
// failed to authenticate against what it read from the cache, and sees
// the generation moved since, may have read an entry dropped meanwhile
// (a secret rotated elsewhere) and deserves one more try.
func (c *Cache) Generation() uint64 { return c.gen.Load() }

// Invalidate drops one client, or all of them for store.Resync.
func (c *Cache) Invalidate(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	if id == store.Resync {
		c.entries.InvalidateAll()
		return
	}
	c.entries.Invalidate(id)
}

// Reread reads a known client afresh, when this path has not in the last
// RefreshAge, and reports whether it did: a failed authentication against
// it may be a secret rotated by another process, worth one more try. A
// store failure keeps the entry (still what the cache positively knows)
// and reports false. Unknown ids stay negatively cached and a client is
// re-read at most once per RefreshAge, so repeated failures cannot cost a
// database read each. It reads the store itself, never joining a
// background read, which may have begun before the change it is after.
//
// A cacheable id with no entry reports true without a read: the entry the
// failure was judged against has been dropped since (an invalidation,
// which may have moved the generation before the caller looked at it and
// dropped the entry after the caller read it), so one more try reads the
// store.
func (c *Cache) Reread(ctx context.Context, id string) bool {
	if !cacheable(id) {
		return false
	}
	en, ok := c.entries.GetEntryQuietly(id)
	if !ok {
		return true
	}
	e := en.Value
	now := c.now().UnixNano()
	last := e.noRefreshBefore.Load()
	if e.client == nil || now < last || !e.noRefreshBefore.CompareAndSwap(last, now+int64(RefreshAge)) {
		return false
	}
	gen := c.gen.Load()
	fresh, err := c.read(ctx, id)
	if err != nil {
		return false
	}
	if fresh.client != nil {
		fresh.noRefreshBefore.Store(now + int64(RefreshAge))
	}
	c.mu.Lock()
	if c.gen.Load() == gen { // not invalidated meanwhile: what was read is current
		c.entries.Set(strings.Clone(id), fresh)
	}
	c.mu.Unlock()
	return true
}
