package verify

import (
	"container/list"
	"sync"
	"time"
)

// keyCache is the bounded LRU cache of APIKeys, keyed by the SHA-256 of a
// key (the raw key is never kept), with the in-flight calls that
// concurrent lookups of one key share.
type keyCache struct {
	mu       sync.Mutex
	max      int
	order    *list.List // of *keyEntry, most recently used first
	entries  map[[32]byte]*list.Element
	inflight map[[32]byte]*keyCall
}

type keyEntry struct {
	id     [32]byte
	res    *APIKeyResult // nil when direct
	until  time.Time
	direct bool // a rate-limited key: always ask the issuer
}

// keyCall is one call to the issuer; ready is closed once res and err are set.
type keyCall struct {
	ready chan struct{}
	res   *APIKeyResult
	err   error
}

func newKeyCache(max int) *keyCache {
	return &keyCache{max: max, order: list.New(), entries: map[[32]byte]*list.Element{}, inflight: map[[32]byte]*keyCall{}}
}

// get returns a fresh cached answer; or direct true for a key that must
// be asked about on every use; or the call to wait for, which the caller
// must make, and then pass to done, when leader is true.
func (c *keyCache) get(id [32]byte, now time.Time) (res *APIKeyResult, direct bool, call *keyCall, leader bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[id]; ok {
		e := el.Value.(*keyEntry)
		if now.Before(e.until) {
			c.order.MoveToFront(el)
			if e.direct {
				return nil, true, nil, false
			}
			return e.res, false, nil, false
		}
		c.order.Remove(el)
		delete(c.entries, id)
	}
	if call, ok := c.inflight[id]; ok {
		return nil, false, call, false
	}
	call = &keyCall{ready: make(chan struct{})}
	c.inflight[id] = call
	return nil, false, call, true
}

// done ends the leader's call: it wakes every waiter, which then read
// call.res and call.err.
func (c *keyCache) done(id [32]byte, call *keyCall) {
	c.mu.Lock()
	delete(c.inflight, id)
	c.mu.Unlock()
	close(call.ready)
}

// put caches an answer until until, dropping the least recently used
// entry when full.
func (c *keyCache) put(id [32]byte, res *APIKeyResult, until time.Time, direct bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := &keyEntry{id: id, res: res, until: until, direct: direct}
	if el, ok := c.entries[id]; ok {
		el.Value = e
		c.order.MoveToFront(el)
		return
	}
	c.entries[id] = c.order.PushFront(e)
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.entries, last.Value.(*keyEntry).id)
	}
}

// len is the number of cached entries.
func (c *keyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
