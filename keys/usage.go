package keys

import (
	"hash/maphash"
	"iter"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// usage batches successful verifications in memory, so that a request
// never writes to the database; Service.Flush hands the batch to
// Store.RecordAPIKeyUsage. A drain takes every shard's map whole, so the
// counts kept are those of the keys verified since the last drain, not of
// every key ever verified.
//
// The counts live inline in plain slices, found through maps sharded by
// the key id's hash: a count costs about 70 bytes with its id and no
// object of its own beside the id (a sync.Map of counters cost about 200
// bytes and three objects a key, 20 MiB after a tour of 100,000 keys, all
// of it pointers for the collector to follow), and a verification of a
// key already counted allocates nothing.
//
// A map keeps a copy of the id it was first given and is only read
// after: storing into a map under a string it holds already replaces the
// key it holds with the one given, and the id a verification counts is
// part of the record the key cache handed out (slabKey), which the count
// would then keep in memory whole until the next drain.
type usage struct {
	shards [usageShards]usageShard
	// pending is how many ids have counts waiting; once it reaches limit
	// (0: never) every new id signals full, so that Run flushes early.
	pending atomic.Int64
	limit   int64
	full    chan struct{} // buffered (1)
}

// usageSeed picks a key id's shard.
var usageSeed = maphash.MakeSeed()

const usageShards = 64

type usageShard struct {
	mu     sync.Mutex
	counts usageCounts
	_      [24]byte // a cache line each: two cores counting different keys do not share one
}

// usageCounts are the counts of some keys: index finds each id's count in
// n. An id deleted from index has its count left in n, unread.
type usageCounts struct {
	index map[string]int
	n     []usageCount
}

func (m *usageCounts) len() int { return len(m.index) }

// all yields each id and its count.
func (m *usageCounts) all() iter.Seq2[string, usageCount] {
	return func(yield func(string, usageCount) bool) {
		for id, i := range m.index {
			if !yield(id, m.n[i]) {
				return
			}
		}
	}
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
	if s.counts.index == nil {
		s.counts.index = make(map[string]int)
	}
	i, known := s.counts.index[id]
	if !known {
		i = len(s.counts.n)
		s.counts.n = append(s.counts.n, usageCount{})
		s.counts.index[strings.Clone(id)] = i
	}
	c := &s.counts.n[i]
	c.n += n
	c.last = max(c.last, last)
	s.mu.Unlock()
	if !known && u.pending.Add(1) >= u.limit && u.limit > 0 {
		select {
		case u.full <- struct{}{}:
		default: // a signal is already waiting
		}
	}
}

// take removes every pending count: each shard's map whole, those with
// counts only.
func (u *usage) take() []usageCounts {
	var out []usageCounts
	for i := range u.shards {
		s := &u.shards[i]
		s.mu.Lock()
		counts := s.counts
		s.counts = usageCounts{} // a tour's map goes with its counts
		s.mu.Unlock()
		if counts.len() > 0 {
			u.pending.Add(-int64(counts.len()))
			out = append(out, counts)
		}
	}
	return out
}

// usage is c as the Usage of key id.
func (c usageCount) usage(id string) Usage {
	return Usage{ID: id, Count: c.n, LastUsedAt: time.UnixMicro(c.last).UTC()}
}

// restore puts back counts that could not be written.
func (u *usage) restore(batch []Usage) {
	for _, b := range batch {
		u.add(b.ID, b.Count, b.LastUsedAt.UnixMicro())
	}
}

// restoreTaken puts back what take returned and was not written.
func (u *usage) restoreTaken(taken []usageCounts) {
	for _, m := range taken {
		for id, c := range m.all() {
			u.add(id, c.n, c.last)
		}
	}
}

// forget drops the count of a deleted key.
func (u *usage) forget(id string) {
	s := u.shard(id)
	s.mu.Lock()
	_, known := s.counts.index[id]
	delete(s.counts.index, id)
	s.mu.Unlock()
	if known {
		u.pending.Add(-1)
	}
}
