package resources

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/keyward/keyward/store"
)

// Lister lists resources (store.ResourceStore does).
type Lister interface {
	ListResources(ctx context.Context, p store.Page) ([]*store.Resource, string, error)
}

// Set is an immutable snapshot of every registered resource.
type Set struct {
	byURI map[string]*store.Resource
	uris  []string // sorted
}

// NewSet returns the snapshot of list.
func NewSet(list []*store.Resource) *Set {
	s := &Set{byURI: make(map[string]*store.Resource, len(list))}
	for _, r := range list {
		s.byURI[r.URI] = r
		s.uris = append(s.uris, r.URI)
	}
	sort.Strings(s.uris)
	return s
}

// Lookup returns the resource registered with exactly uri.
func (s *Set) Lookup(uri string) (*store.Resource, bool) {
	if s == nil {
		return nil, false
	}
	r, ok := s.byURI[uri]
	return r, ok
}

// URIs returns every registered resource URI, sorted. The caller must
// not change the slice.
func (s *Set) URIs() []string {
	if s == nil {
		return nil
	}
	return s.uris
}

// Cache keeps the Set of every registered resource in memory, so the
// token endpoint does not read the database per request: reloaded when
// older than TTL or after Invalidate (the Channel event of a change on any
// instance).
type Cache struct {
	store Lister
	ttl   time.Duration
	now   func() time.Time

	mu      sync.RWMutex
	set     *Set
	gen     uint64 // bumped by Invalidate
	expires time.Time
	retry   time.Time // no reload before this after a failure
	lastErr error
}

// CacheTTL is how long a snapshot serves before it is reloaded (the
// safety net behind the events).
const CacheTTL = 30 * time.Second

// NewCache returns an empty cache over l; now is the clock.
func NewCache(l Lister, now func() time.Time) *Cache {
	return &Cache{store: l, ttl: CacheTTL, now: now}
}

// Current returns the snapshot, reloading it when stale. When a reload
// fails it returns the last snapshot (nil if none was ever loaded) with
// an error that matches store.ErrUnavailable: what the snapshot holds is
// still positively known, what it lacks is not known to be absent.
func (c *Cache) Current(ctx context.Context) (*Set, error) {
	now := c.now()
	c.mu.RLock()
	set, fresh := c.set, c.set != nil && now.Before(c.expires)
	c.mu.RUnlock()
	if fresh {
		return set, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.set != nil && now.Before(c.expires) {
		return c.set, nil
	}
	if now.Before(c.retry) {
		return c.set, c.lastErr
	}
	gen := c.gen
	// The snapshot serves every request: one caller going away must not
	// cut its reload short.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	set, err := load(lctx, c.store)
	if err != nil {
		c.lastErr = fmt.Errorf("%w: load resources: %w", store.ErrUnavailable, err)
		c.retry = now.Add(2 * time.Second)
		return c.set, c.lastErr
	}
	c.set, c.lastErr = set, nil
	if c.gen == gen {
		c.expires = now.Add(c.ttl)
	}
	return c.set, nil
}

// Invalidate makes the next Current reload.
func (c *Cache) Invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.expires, c.retry = time.Time{}, time.Time{}
}

// load reads every resource, a page at a time.
func load(ctx context.Context, l Lister) (*Set, error) {
	var all []*store.Resource
	cursor := ""
	for {
		items, next, err := l.ListResources(ctx, store.Page{Limit: store.MaxPageLimit, Cursor: cursor})
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if next == "" {
			return NewSet(all), nil
		}
		cursor = next
	}
}
