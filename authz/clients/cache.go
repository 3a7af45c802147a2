package clients

import (
	"context"
	"errors"
	"sync"
	"time"

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
type Cache struct {
	store  Getter
	ttl    time.Duration
	negTTL time.Duration
	max    int
	now    func() time.Time
	// OnLookup, when set before the cache is used, is told of every Get:
	// hit when it was answered from memory (an unknown id remembered as
	// such included), for metrics. It must be fast and never block.
	OnLookup func(hit bool)

	mu      sync.RWMutex
	gen     uint64 // bumped by every Invalidate
	entries map[string]cacheEntry
}

type cacheEntry struct {
	client  *store.Client
	err     error
	expires time.Time
	// noRefreshBefore is when a failed authentication may next re-read
	// the client (Reread).
	noRefreshBefore time.Time
}

// Cache lifetimes: a known client for CacheTTL, an unknown id for
// NegativeTTL; RefreshAge is how often a failed authentication may re-read
// a known client.
const (
	CacheTTL    = 30 * time.Second
	NegativeTTL = 5 * time.Second
	RefreshAge  = time.Second
	cacheMax    = 100_000
)

// NewCache returns an empty cache over s; now is the clock.
func NewCache(s Getter, now func() time.Time) *Cache {
	return &Cache{store: s, ttl: CacheTTL, negTTL: NegativeTTL, max: cacheMax, now: now,
		entries: map[string]cacheEntry{}}
}

// Get returns the client, store.ErrNotFound, or the store's failure.
func (c *Cache) Get(ctx context.Context, id string) (*store.Client, error) {
	now := c.now()
	c.mu.RLock()
	e, ok := c.entries[id]
	c.mu.RUnlock()
	if ok && now.Before(e.expires) {
		if c.OnLookup != nil {
			c.OnLookup(true)
		}
		return e.client, e.err
	}
	if id == "" || len(id) > 256 {
		return nil, store.ErrNotFound
	}
	if c.OnLookup != nil {
		c.OnLookup(false)
	}
	c.mu.RLock()
	gen := c.gen
	c.mu.RUnlock()
	sc, err := c.store.GetClient(ctx, id)
	switch {
	case err == nil:
		e = cacheEntry{client: sc, expires: now.Add(c.ttl)}
	case errors.Is(err, store.ErrNotFound):
		e = cacheEntry{err: store.ErrNotFound, expires: now.Add(c.negTTL)}
	default:
		return nil, err
	}
	c.mu.Lock()
	if len(c.entries) >= c.max {
		c.entries = map[string]cacheEntry{}
	}
	// An invalidation while the store was read may have made the read
	// stale: answer it, but do not keep it.
	if c.gen == gen {
		c.entries[id] = e
	}
	c.mu.Unlock()
	return e.client, e.err
}

// Invalidate drops one client, or all of them for store.Resync.
func (c *Cache) Invalidate(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if id == store.Resync {
		c.entries = map[string]cacheEntry{}
		return
	}
	delete(c.entries, id)
}

// Reread reads a known client afresh, when this path has not in the last
// RefreshAge, and reports whether it did: a failed authentication against
// it may be a secret rotated by another process, worth one more try. A
// store failure keeps the entry (still what the cache positively knows)
// and reports false. Unknown ids stay negatively cached and a client is
// re-read at most once per RefreshAge, so repeated failures cannot cost a
// database read each.
func (c *Cache) Reread(ctx context.Context, id string) bool {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[id]
	if !ok || e.client == nil || now.Before(e.noRefreshBefore) {
		c.mu.Unlock()
		return false
	}
	e.noRefreshBefore = now.Add(RefreshAge)
	c.entries[id] = e
	gen := c.gen
	c.mu.Unlock()
	sc, err := c.store.GetClient(ctx, id)
	switch {
	case err == nil:
		e = cacheEntry{client: sc, expires: now.Add(c.ttl), noRefreshBefore: now.Add(RefreshAge)}
	case errors.Is(err, store.ErrNotFound):
		e = cacheEntry{err: store.ErrNotFound, expires: now.Add(c.negTTL)}
	default:
		return false
	}
	c.mu.Lock()
	if c.gen == gen {
		c.entries[id] = e
	}
	c.mu.Unlock()
	return true
}
