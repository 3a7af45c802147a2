package authz

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/keyward/keyward/store"
)

// ClientsChannel is the events channel on which a changed client's id is
// announced, so every instance drops it from its cache.
const ClientsChannel = "keyward_clients"

// clientCache keeps clients in memory so the token endpoint does not read
// the database per request. Entries live for ttl (the safety net behind
// event-driven invalidation); unknown ids are remembered for negTTL.
type clientCache struct {
	store  store.ClientStore
	ttl    time.Duration
	negTTL time.Duration
	max    int
	now    func() time.Time

	mu        sync.RWMutex
	entries   map[string]clientEntry
	refreshed map[string]time.Time // ids dropStale dropped, until reloaded
}

type clientEntry struct {
	client  *fositeClient
	err     error
	expires time.Time
	// noRefreshBefore is when a failed authentication may next re-read
	// the client (dropStale).
	noRefreshBefore time.Time
}

func newClientCache(s store.ClientStore, now func() time.Time) *clientCache {
	return &clientCache{store: s, ttl: 30 * time.Second, negTTL: 5 * time.Second, max: 100_000, now: now,
		entries: map[string]clientEntry{}, refreshed: map[string]time.Time{}}
}

// get returns the client or store.ErrNotFound.
func (c *clientCache) get(ctx context.Context, id string) (*fositeClient, error) {
	now := c.now()
	c.mu.RLock()
	e, ok := c.entries[id]
	c.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return e.client, e.err
	}
	if id == "" || len(id) > 256 {
		return nil, store.ErrNotFound
	}
	sc, err := c.store.GetClient(ctx, id)
	switch {
	case err == nil:
		e = clientEntry{client: &fositeClient{c: sc}, expires: now.Add(c.ttl)}
	case errors.Is(err, store.ErrNotFound):
		e = clientEntry{err: store.ErrNotFound, expires: now.Add(c.negTTL)}
	default:
		return nil, err
	}
	c.mu.Lock()
	if len(c.entries) >= c.max {
		c.entries, c.refreshed = map[string]clientEntry{}, map[string]time.Time{}
	}
	if at, ok := c.refreshed[id]; ok {
		e.noRefreshBefore = at.Add(refreshAge)
		delete(c.refreshed, id)
	}
	c.entries[id] = e
	c.mu.Unlock()
	return e.client, e.err
}

// invalidate drops one client, or all of them for store.Resync.
func (c *clientCache) invalidate(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id == store.Resync {
		c.entries = map[string]clientEntry{}
		return
	}
	delete(c.entries, id)
}

// refreshAge is how often a failed authentication may re-read a client.
const refreshAge = time.Second

// dropStale removes id's entry when it is a known client not re-read by
// this path in the last refreshAge, and reports whether it did: a failed
// authentication against it may be a secret rotated by another process.
// Unknown ids stay negatively cached and a client is re-read at most once
// per refreshAge, so repeated failures cannot cost a database read each.
func (c *clientCache) dropStale(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	now := c.now()
	if !ok || e.client == nil || now.Before(e.noRefreshBefore) {
		return false
	}
	delete(c.entries, id)
	c.refreshed[id] = now
	return true
}
