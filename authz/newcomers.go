package authz

import "sync"

// newcomerQueue is the first-in, first-out queue of the opaque cache's
// newcomers: the keys of answers cached on their first read, oldest
// first. When the cache is full, a newcomer makes room by evicting the
// oldest newcomers still unproven (opaqueEntry.proven), so the cache's
// own eviction, which judges by frequency and would keep an old one-off
// entry over a new one of equal frequency, has nothing to decide.
//
// The queue holds at most newcomerSlots keys (strings shared with the
// cache's keys); a newcomer pushed out of a full queue is evicted then
// unless proven.
type newcomerQueue struct {
	mu   sync.Mutex
	ring []string
	head int // oldest
	n    int
}

// newcomerSlots bounds the queue: more newcomers than a full cache of the
// smallest answers holds.
const newcomerSlots = OpaqueCacheBytes / 256

// push appends the newcomer key.
func (q *newcomerQueue) push(c *opaqueCache, key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.ring == nil {
		q.ring = make([]string, newcomerSlots)
	}
	if q.n == len(q.ring) {
		q.evictOldest(c)
	}
	q.ring[(q.head+q.n)%len(q.ring)] = key
	q.n++
}

// makeRoom evicts the oldest unproven newcomers until an entry of weight
// w fits in the cache with some headroom: the cache's weighted size is an
// estimate that lags the writes it has not applied yet, and an entry the
// cache must evict for goes to its frequency admission after all.
func (q *newcomerQueue) makeRoom(c *opaqueCache, w uint32) {
	limit := c.entries.GetMaximum()
	limit -= limit / 16
	if c.entries.WeightedSize()+uint64(w) <= limit {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	need := int64(c.entries.WeightedSize()+uint64(w)) - int64(limit)
	for i := 0; need > 0 && q.n > 0 && i < 16; i++ {
		need -= int64(q.evictOldest(c))
	}
}

// evictOldest drops the oldest key from the queue, and its entry from the
// cache unless proven; it returns the weight freed. q.mu is held.
func (q *newcomerQueue) evictOldest(c *opaqueCache) uint32 {
	key := q.ring[q.head]
	q.ring[q.head] = ""
	q.head = (q.head + 1) % len(q.ring)
	q.n--
	e, ok := c.entries.GetEntryQuietly(key)
	if !ok || e.Value.proven.Load() {
		return 0
	}
	c.entries.Invalidate(key)
	return uint32(e.Weight)
}
