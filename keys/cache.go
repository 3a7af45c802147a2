package keys

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/keyward/keyward/store"
)

// cache keeps API-key records by id so that verifying a known key needs no
// database call. Entries live for ttl (the safety net); invalidations
// (local writes, and Events from every instance) drop them at once. Ids
// that do not exist are remembered for negTTL, at most maxNegative of them.
// Concurrent misses on one id share a single load.
//
// Records live in the slab, memory the collector never scans, except the
// few that do not pack into a slot (more than two secrets, a long owner
// id, ...): those go to the odd store, an otter cache weighed with
// packedKey.weight. Together they hold records of about maxBytes, so the
// cache's memory is bounded whatever the number of keys in the database.
// An id is in one of them at most.
type cache struct {
	ttl, negTTL time.Duration
	now         func() time.Time
	maxNegative int
	obs         Observer // told of each get: hit or miss

	slab *slab
	odd  *otter.Cache[string, *entry]

	mu       sync.Mutex // guards the fields below
	gen      uint64     // bumped by every invalidation
	negative map[string]time.Time
	loading  map[string]*load
	scopes   *scopeTable // intern is called with mu held

	refreshes sync.WaitGroup // background reads under way (refresh); Add under mu
	closed    bool           // no more background reads (close)
}

// close waits for the background reads under way (each at most
// refreshTimeout) and starts no more.
func (c *cache) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.refreshes.Wait()
}

type entry struct {
	rec   packedKey
	until int64 // Unix nanoseconds
	tried int64 // the last re-read (reread), even a failed one; Unix nanoseconds
}

// put caches k, loaded at now, under id; c.mu is held. An entry in the
// odd store is keyed by the record's own copy of id, not the caller's (a
// part of the whole key string, which would stay in memory with it).
func (c *cache) put(id string, k *APIKey, now time.Time) {
	until := now.Add(c.ttl).UnixNano()
	if packs(k) {
		if n, _, ok := c.scopes.intern(k.Scopes); ok {
			c.slab.put(id, k, until, n)
			c.odd.Invalidate(id)
			return
		}
	}
	c.slab.remove(id)
	e := &entry{rec: *pack(k, c.scopes.internList), until: until}
	if e.rec.id != id {
		id = strings.Clone(id)
	} else {
		id = e.rec.id
	}
	c.odd.Set(id, e)
}

type load struct {
	done chan struct{}
	key  *APIKey
	err  error
}

// DefaultCacheBytes bounds the memory of the API-key cache: 32 MiB hold
// about 108,000 keys (slotBytes each), so a tour of 100,000 keys is
// served from memory once warm.
const DefaultCacheBytes = 32 << 20

// oddShare is the part of the cache's bytes the odd store may hold.
const oddShare = 32

func newCache(ttl, negTTL time.Duration, maxBytes int64, now func() time.Time) *cache {
	oddBytes := maxBytes / oddShare
	return &cache{ttl: ttl, negTTL: negTTL, now: now, maxNegative: 10000, obs: noObserver{},
		slab: newSlab(int((maxBytes - oddBytes) / slotBytes)),
		odd: otter.Must(&otter.Options[string, *entry]{MaximumWeight: uint64(max(oddBytes, 1)),
			Weigher: func(_ string, e *entry) uint32 { return e.rec.weight() }}),
		negative: map[string]time.Time{}, loading: map[string]*load{}, scopes: newScopeTable()}
}

// len is how many records the cache holds.
func (c *cache) len() int {
	c.odd.CleanUp()
	return c.slab.len() + c.odd.EstimatedSize()
}

// get returns the key with id, from the cache or through fetch. It returns
// store.ErrNotFound for an id known not to exist, and fetch's other errors.
func (c *cache) get(ctx context.Context, id string, fetch func(context.Context, string) (*APIKey, error)) (*APIKey, error) {
	now := c.now()
	if k, ok, due := c.slab.get(id, now.UnixNano(), int64(c.ttl), c.scopes); ok {
		c.obs.CacheLookup(true)
		if due {
			c.refresh(id, now, fetch)
		}
		return k, nil
	}
	if e, ok := c.odd.GetIfPresent(id); ok {
		if now.UnixNano() < e.until {
			c.obs.CacheLookup(true)
			return e.rec.unpack(), nil
		}
	}
	c.mu.Lock()
	if until, ok := c.negative[id]; ok {
		if now.Before(until) {
			c.mu.Unlock()
			c.obs.CacheLookup(true)
			return nil, store.ErrNotFound
		}
		delete(c.negative, id)
	}
	c.obs.CacheLookup(false)
	if l, ok := c.loading[id]; ok {
		c.mu.Unlock()
		select {
		case <-l.done:
			return l.key, l.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	l := &load{done: make(chan struct{})}
	c.loading[id] = l
	gen := c.gen
	c.mu.Unlock()

	l.key, l.err = fetch(ctx, id)

	c.mu.Lock()
	if c.loading[id] == l {
		delete(c.loading, id)
	}
	if c.gen == gen { // nothing was invalidated while loading
		switch {
		case l.err == nil:
			c.put(id, l.key, now)
		case errors.Is(l.err, store.ErrNotFound) && len(c.negative) < c.maxNegative:
			c.negative[strings.Clone(id)] = now.Add(c.negTTL)
		}
	}
	c.mu.Unlock()
	close(l.done)
	return l.key, l.err
}

// refreshTimeout bounds a background read of a key.
const refreshTimeout = 10 * time.Second

// refresh reads the slab's record of id again in the background through
// fetch, unless another caller started it first, so that a key in use is
// read again before its ttl runs out instead of on a request's path when
// it has (every key read in the same moment, by a tour or after a start,
// would otherwise expire in the same moment). A read that an invalidation
// overtakes is not kept; one that fails leaves the record to expire, and
// a get staleAfter later tries again; store.ErrNotFound drops it.
func (c *cache) refresh(id string, now time.Time, fetch func(context.Context, string) (*APIKey, error)) {
	if !c.slab.claimRefresh(id, now.UnixNano(), int64(c.ttl)) {
		return
	}
	id = strings.Clone(id) // not the caller's, part of the whole key string
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	gen := c.gen
	c.refreshes.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.refreshes.Done()
		ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
		defer cancel()
		k, err := fetch(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			c.invalidate(id)
		}
		if err != nil {
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.gen == gen {
			c.put(id, k, c.now())
		}
	}()
}

// invalidate drops id, or everything for resync.
func (c *cache) invalidate(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	// A load begun before now may read what the invalidation replaced: a
	// later get starts its own instead of waiting for it.
	if id == resync {
		c.slab.clear()
		c.odd.InvalidateAll()
		clear(c.negative)
		clear(c.loading)
		return
	}
	c.slab.remove(id)
	c.odd.Invalidate(id)
	delete(c.negative, id)
	delete(c.loading, id)
}

// staleAfter is how long a cached record is trusted to hold every secret
// of its key: a secret that matches none of a record older than this
// re-reads it once (the key may have been rolled on another instance).
const staleAfter = time.Second

// reread reads id afresh through fetch when its cached record was loaded,
// or last re-read, staleAfter or longer ago, replacing the record, and
// reports whether it read. Concurrent callers may each read once. A store
// failure keeps the record (still what the cache positively knows) and
// comes back as err, as does store.ErrNotFound, which drops it.
//
// An id with no record cached is read as get reads it: the record the
// caller judged was dropped since it was handed out (an invalidation
// heard meanwhile, from a roll on another instance say), and the key as
// it is now is one read away. Evictions aside, that happens only when an
// invalidation races the caller, so wrong secrets still cost at most one
// read per key per staleAfter.
func (c *cache) reread(ctx context.Context, id string, fetch func(context.Context, string) (*APIKey, error)) (*APIKey, bool, error) {
	now := c.now()
	cached, claimed := c.claim(id, now)
	if !cached {
		k, err := c.get(ctx, id, fetch)
		if err != nil {
			return nil, false, err
		}
		return k, true, nil
	}
	if !claimed {
		return nil, false, nil
	}
	c.mu.Lock()
	gen := c.gen
	c.mu.Unlock()
	k, err := fetch(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		c.invalidate(id)
	}
	if err != nil {
		return nil, false, err
	}
	c.mu.Lock()
	if c.gen == gen {
		c.put(id, k, now)
	}
	c.mu.Unlock()
	return k, true, nil
}

// claim reports whether id's record is cached (unexpired) and, if so,
// whether it was loaded, or last re-read, staleAfter or longer before now;
// it then marks it re-read at now, so that concurrent callers claim it
// once.
func (c *cache) claim(id string, now time.Time) (cached, claimed bool) {
	found, claimed := c.slab.claim(id, now.UnixNano(), int64(c.ttl), int64(staleAfter))
	if found {
		return true, claimed
	}
	e, ok := c.odd.GetIfPresent(id)
	if !ok || now.UnixNano() >= e.until {
		return false, false
	}
	last := e.until - int64(c.ttl) // when it was loaded
	if e.tried > last {
		last = e.tried
	}
	if now.UnixNano()-last < int64(staleAfter) {
		return true, false
	}
	tried := *e
	tried.tried = now.UnixNano()
	return true, c.swap(id, e, &tried) // false: another caller is re-reading it
}

// swap replaces id's record old with e, unless another caller replaced it
// first; it reports whether it did.
func (c *cache) swap(id string, old, e *entry) bool {
	swapped := false
	c.odd.Compute(id, func(cur *entry, found bool) (*entry, otter.ComputeOp) {
		if !found || cur != old {
			return cur, otter.CancelOp
		}
		swapped = true
		return e, otter.WriteOp
	})
	return swapped
}

// sweep drops expired entries.
func (c *cache) sweep() {
	now := c.now()
	c.slab.sweep(now.UnixNano())
	for id, e := range c.odd.All() {
		if now.UnixNano() >= e.until {
			c.odd.ComputeIfPresent(id, func(cur *entry) (*entry, otter.ComputeOp) {
				if cur != e {
					return cur, otter.CancelOp
				}
				return nil, otter.InvalidateOp
			})
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, until := range c.negative {
		if !now.Before(until) {
			delete(c.negative, id)
		}
	}
}
