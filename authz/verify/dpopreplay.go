package verify

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// ReplayCache remembers the DPoP proofs a resource server has accepted
// (RFC 9449 §11.1). Use records key until expires and reports whether it
// was new; an error makes the middleware answer 503 (ErrUnavailable).
// Resource servers with several instances should share one (e.g. in
// Redis or their database, insert-if-absent with an expiry); the default
// is a MemoryReplayCache per middleware.
type ReplayCache interface {
	Use(ctx context.Context, key string, expires time.Time) (fresh bool, err error)
}

// DefaultReplayCacheSize bounds the default MemoryReplayCache.
const DefaultReplayCacheSize = 100000

// MemoryReplayCache is a bounded in-process ReplayCache. When it is full
// of unexpired entries it forgets the one that expires first.
type MemoryReplayCache struct {
	max int
	now func() time.Time

	mu    sync.Mutex
	seen  map[string]time.Time
	byExp expiryHeap
}

// NewMemoryReplayCache returns a cache of at most max entries (max <= 0:
// DefaultReplayCacheSize).
func NewMemoryReplayCache(max int) *MemoryReplayCache {
	if max <= 0 {
		max = DefaultReplayCacheSize
	}
	return &MemoryReplayCache{max: max, now: time.Now, seen: map[string]time.Time{}}
}

var _ ReplayCache = (*MemoryReplayCache)(nil)

// Use implements ReplayCache.
func (m *MemoryReplayCache) Use(_ context.Context, key string, expires time.Time) (bool, error) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for len(m.byExp) > 0 && (!m.byExp[0].exp.After(now) || len(m.byExp) >= m.max) {
		e := heap.Pop(&m.byExp).(expiryEntry)
		if m.seen[e.key].Equal(e.exp) {
			delete(m.seen, e.key)
		}
	}
	if exp, ok := m.seen[key]; ok && exp.After(now) {
		return false, nil
	}
	m.seen[key] = expires
	heap.Push(&m.byExp, expiryEntry{key: key, exp: expires})
	return true, nil
}

type expiryEntry struct {
	key string
	exp time.Time
}

type expiryHeap []expiryEntry

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].exp.Before(h[j].exp) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(expiryEntry)) }
func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
