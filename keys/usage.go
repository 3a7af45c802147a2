package keys

import (
	"hash/maphash"
	"sync"
	"time"
)

// usage batches successful verifications in memory, so that a request
// never writes to the database; Service.Flush hands the batch to
// Store.RecordAPIKeyUsage. A drain takes every shard's map whole, so the
// counts kept are those of the keys verified since the last drain, not of
// every key ever verified.
//
// The counts live inline in plain maps, sharded by the key id's hash: a
// count costs about 40 bytes and no object of its own (a sync.Map of
// counters cost about 200 bytes and three objects a key, 20 MiB after a
// tour of 100,000 keys, all of it pointers for the collector to follow),
// and a verification of a key already counted allocates nothing.
type usage struct {
	shards [usageShards]usageShard
}

// usageSeed picks a key id's shard.
var usageSeed = maphash.MakeSeed()

const usageShards = 64

type usageShard struct {
	mu     sync.Mutex
	counts map[string]usageCount
	_      [48]byte // a cache line each: two cores counting different keys do not share one
}

type usageCount struct {
	n    int64 // verifications since the last drain
	last int64 // the latest, Unix microseconds
}

func (u *usage) shard(id string) *usageShard {
	return &u.shards[maphash.String(usageSeed, id)%usageShards]
}

// record counts one verification of key id at now.
func (u *usage) record(id string, now time.Time) { u.add(id, 1, now.UnixMicro()) }

// add counts n verifications of id, the latest at last (Unix
// microseconds).
func (u *usage) add(id string, n, last int64) {
	s := u.shard(id)
	s.mu.Lock()
	if s.counts == nil {
		s.counts = make(map[string]usageCount)
	}
	c := s.counts[id]
	c.n += n
	c.last = max(c.last, last)
	s.counts[id] = c
	s.mu.Unlock()
}

// drain takes every pending count.
func (u *usage) drain() []Usage {
	var out []Usage
	for i := range u.shards {
		s := &u.shards[i]
		s.mu.Lock()
		counts := s.counts
		s.counts = nil // a tour's map goes with its counts
		s.mu.Unlock()
		for id, c := range counts {
			out = append(out, Usage{ID: id, Count: c.n, LastUsedAt: time.UnixMicro(c.last).UTC()})
		}
	}
	return out
}

// restore puts back counts that could not be written.
func (u *usage) restore(batch []Usage) {
	for _, b := range batch {
		u.add(b.ID, b.Count, b.LastUsedAt.UnixMicro())
	}
}

// forget drops the count of a deleted key.
func (u *usage) forget(id string) {
	s := u.shard(id)
	s.mu.Lock()
	delete(s.counts, id)
	s.mu.Unlock()
}
