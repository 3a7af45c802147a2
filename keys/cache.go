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
// Concurrent misses on one id share a single load. The cache holds records
// of about maxBytes in all (packedKey.weight; otter's W-TinyLFU admission
// decides which stay), so its memory is bounded whatever the number of
// keys in the database.
type cache struct {
	ttl, negTTL time.Duration
	now         func() time.Time
	maxNegative int
	obs         Observer // told of each get: hit or miss

	entries *otter.Cache[string, *entry]

	mu       sync.Mutex // guards the fields below
	gen      uint64     // bumped by every invalidation
	negative map[string]time.Time
	loading  map[string]*load
	scopes   scopeSets
}

type entry struct {
	rec   packedKey
	until int64 // Unix nanoseconds
	tried int64 // the last re-read (reread), even a failed one; Unix nanoseconds
}

// put caches k, loaded at now, under id; c.mu is held. The entry is keyed
// by the record's own copy of id, not the caller's (a part of the whole key
// string, which would stay in memory with it).
func (c *cache) put(id string, k *APIKey, now time.Time) {
	e := &entry{rec: *pack(k, c.scopes.intern), until: now.Add(c.ttl).UnixNano()}
	if e.rec.id != id {
		id = strings.Clone(id)
	} else {
		id = e.rec.id
	}
	c.entries.Set(id, e)
}

type load struct {
	done chan struct{}
	key  *APIKey
	err  error
}

// DefaultCacheBytes bounds the memory of the API-key cache: 32 MiB hold
// about 100,000 keys of one secret (packedKey.weight, about 330 bytes
// each with a short owner id), so a tour of 100,000 keys is served from
// memory once warm.
const DefaultCacheBytes = 32 << 20

func newCache(ttl, negTTL time.Duration, maxBytes int64, now func() time.Time) *cache {
	return &cache{ttl: ttl, negTTL: negTTL, now: now, maxNegative: 10000, obs: noObserver{},
		entries: otter.Must(&otter.Options[string, *entry]{MaximumWeight: uint64(maxBytes),
			Weigher: func(_ string, e *entry) uint32 { return e.rec.weight() }}),
		negative: map[string]time.Time{}, loading: map[string]*load{}, scopes: scopeSets{}}
}

// get returns the key with id, from the cache or through fetch. It returns
// store.ErrNotFound for an id known not to exist, and fetch's other errors.
func (c *cache) get(ctx context.Context, id string, fetch func(context.Context, string) (*APIKey, error)) (*APIKey, error) {
	now := c.now()
	if e, ok := c.entries.GetIfPresent(id); ok {
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

// invalidate drops id, or everything for resync.
func (c *cache) invalidate(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	// A load begun before now may read what the invalidation replaced: a
	// later get starts its own instead of waiting for it.
	if id == resync {
		c.entries.InvalidateAll()
		clear(c.negative)
		clear(c.loading)
		return
	}
	c.entries.Invalidate(id)
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
func (c *cache) reread(ctx context.Context, id string, fetch func(context.Context, string) (*APIKey, error)) (*APIKey, bool, error) {
	e, ok := c.entries.GetIfPresent(id)
	if !ok {
		return nil, false, nil
	}
	now := c.now()
	last := e.until - int64(c.ttl) // when it was loaded
	if e.tried > last {
		last = e.tried
	}
	if now.UnixNano()-last < int64(staleAfter) {
		return nil, false, nil
	}
	tried := *e
	tried.tried = now.UnixNano()
	if !c.swap(id, e, &tried) {
		return nil, false, nil // another caller is re-reading it
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

// swap replaces id's record old with e, unless another caller replaced it
// first; it reports whether it did.
func (c *cache) swap(id string, old, e *entry) bool {
	swapped := false
	c.entries.Compute(id, func(cur *entry, found bool) (*entry, otter.ComputeOp) {
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
	for id, e := range c.entries.All() {
		if now.UnixNano() >= e.until {
			c.entries.ComputeIfPresent(id, func(cur *entry) (*entry, otter.ComputeOp) {
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
