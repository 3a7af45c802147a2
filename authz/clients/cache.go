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
// A store failure is returned, never cached.
//
// A client in use is read again before its TTL runs out, in the
// background: the first Get past the entry's refresh time (between four
// fifths and nineteen twentieths of the TTL, drawn for each read so that clients
// read together are not read again together) starts one read and is
// answered from memory, as are the Gets while it runs. Only a client not
// asked for in that window waits for a read when it is next asked for.
// Without it, every client loaded in the same moment (after a start, say)
// expired in the same moment too: a thousand clients were a thousand
// store reads within 100 ms every TTL, on the requests' path.
type Cache struct {
	store  Getter
	ttl    time.Duration
	negTTL time.Duration
	now    func() time.Time
	// OnLookup, when set before the cache is used, is told of every Get:
	// hit when it was answered from memory (an unknown id remembered as
	// such included), for metrics. It must be fast and never block.
	OnLookup func(hit bool)

	mu      sync.Mutex    // serializes changes of gen with the entries'
	gen     atomic.Uint64 // bumped by every Invalidate, under mu
	entries *otter.Cache[string, cacheEntry]

	refreshes sync.WaitGroup // the background reads under way (tests wait for them)
}

type cacheEntry struct {
	client  *store.Client
	err     error
	expires time.Time
	// refreshAt is when a Get starts a background read of a known
	// client; expires once one has started.
	refreshAt time.Time
	// noRefreshBefore is when a failed authentication may next re-read
	// the client (Reread).
	noRefreshBefore time.Time
}

// Cache lifetimes: a known client for CacheTTL, an unknown id for
// NegativeTTL; RefreshAge is how often a failed authentication may re-read
// a known client. CacheBytes bounds the cache's memory (entryWeight: some
// 8,000 clients of a usual size); otter's W-TinyLFU admission keeps the
// clients in steady use when unknown ids or rare clients pass through.
const (
	CacheTTL    = 30 * time.Second
	NegativeTTL = 5 * time.Second
	RefreshAge  = time.Second
	CacheBytes  = 8 << 20
)

// NewCache returns an empty cache over s; now is the clock.
func NewCache(s Getter, now func() time.Time) *Cache { return newCache(s, now, CacheBytes) }

func newCache(s Getter, now func() time.Time, maxBytes uint64) *Cache {
	return &Cache{store: s, ttl: CacheTTL, negTTL: NegativeTTL, now: now,
		entries: otter.Must(&otter.Options[string, cacheEntry]{MaximumWeight: maxBytes, Weigher: entryWeight})}
}

// entryWeight is about how many bytes of memory a cached client (or an
// unknown id) takes: the record, its strings and lists (each element
// counted with its header), and otter's node (TestCacheBytes).
func entryWeight(id string, e cacheEntry) uint32 {
	n := 224 + len(id)
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
	now := c.now()
	e, ok := c.entries.GetIfPresent(id)
	if ok && now.Before(e.expires) {
		if c.OnLookup != nil {
			c.OnLookup(true)
		}
		if e.client != nil && !now.Before(e.refreshAt) {
			c.refresh(id, now)
		}
		return e.client, e.err
	}
	if !cacheable(id) {
		return nil, store.ErrNotFound
	}
	if c.OnLookup != nil {
		c.OnLookup(false)
	}
	gen := c.gen.Load()
	sc, err := c.store.GetClient(ctx, id)
	switch {
	case err == nil:
		e = c.known(sc, now)
	case errors.Is(err, store.ErrNotFound):
		e = cacheEntry{err: store.ErrNotFound, expires: now.Add(c.negTTL)}
	default:
		return nil, err
	}
	c.mu.Lock()
	// An invalidation while the store was read may have made the read
	// stale: answer it, but do not keep it.
	if c.gen.Load() == gen {
		c.entries.Set(strings.Clone(id), e) // not the request's string, which would stay with it
	}
	c.mu.Unlock()
	return e.client, e.err
}

// cacheable reports whether id may name a client: ids outside it are
// refused without a read, and never kept.
func cacheable(id string) bool { return id != "" && len(id) <= 256 }

// known is the entry of client sc read at now, its refresh time drawn
// between four fifths and nineteen twentieths of the TTL: late, so that a
// client in use is read about as often as one that expires (once in 26 s
// on average, against 30), early enough to spread the reads over 4.5 s.
func (c *Cache) known(sc *store.Client, now time.Time) cacheEntry {
	return cacheEntry{client: sc, expires: now.Add(c.ttl), refreshAt: now.Add(c.ttl*4/5 + rand.N(c.ttl*3/20+1))}
}

// refreshTimeout bounds a background read.
const refreshTimeout = 10 * time.Second

// refresh starts the background read of known client id, due at now,
// unless another Get started it first.
func (c *Cache) refresh(id string, now time.Time) {
	c.mu.Lock()
	e, ok := c.entries.GetIfPresent(id)
	if !ok || e.client == nil || now.Before(e.refreshAt) || !now.Before(e.expires) {
		c.mu.Unlock()
		return
	}
	e.refreshAt = e.expires // started: no other Get starts one
	c.entries.Set(id, e)
	gen := c.gen.Load()
	c.refreshes.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.refreshes.Done()
		ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
		defer cancel()
		sc, err := c.store.GetClient(ctx, id)
		now := c.now()
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.gen.Load() != gen { // invalidated meanwhile: what was read may be stale
			return
		}
		switch {
		case err == nil:
			fresh := c.known(sc, now)
			fresh.noRefreshBefore = e.noRefreshBefore
			c.entries.Set(id, fresh)
		case errors.Is(err, store.ErrNotFound):
			c.entries.Set(id, cacheEntry{err: store.ErrNotFound, expires: now.Add(c.negTTL)})
		default:
			// A store failure keeps the entry until it expires; a Get
			// after RefreshAge tries again.
			if cur, ok := c.entries.GetIfPresent(id); ok && cur.client == e.client {
				cur.refreshAt = now.Add(RefreshAge)
				c.entries.Set(id, cur)
			}
		}
	}()
}

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
// database read each.
//
// A cacheable id with no entry reports true without a read: the entry the failure
// was judged against has been dropped since (an invalidation, which may
// have moved the generation before the caller looked at it and dropped
// the entry after the caller read it), so one more try reads the store.
func (c *Cache) Reread(ctx context.Context, id string) bool {
	if !cacheable(id) {
		return false
	}
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries.GetIfPresent(id)
	if !ok {
		c.mu.Unlock()
		return true
	}
	if e.client == nil || now.Before(e.noRefreshBefore) {
		c.mu.Unlock()
		return false
	}
	e.noRefreshBefore = now.Add(RefreshAge)
	c.entries.Set(id, e)
	gen := c.gen.Load()
	c.mu.Unlock()
	sc, err := c.store.GetClient(ctx, id)
	switch {
	case err == nil:
		e = c.known(sc, now)
		e.noRefreshBefore = now.Add(RefreshAge)
	case errors.Is(err, store.ErrNotFound):
		e = cacheEntry{err: store.ErrNotFound, expires: now.Add(c.negTTL)}
	default:
		return false
	}
	c.mu.Lock()
	if c.gen.Load() == gen {
		c.entries.Set(id, e)
	}
	c.mu.Unlock()
	return true
}
