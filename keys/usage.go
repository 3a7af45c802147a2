package keys

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// usage batches successful verifications in memory, so that a request
// never writes to the database; Service.Flush hands the batch to
// Store.RecordAPIKeyUsage. A key's counter is dropped once a whole flush
// interval passes without a verification, so the counters stay as many as
// the keys in use, not every key ever verified.
type usage struct {
	counters sync.Map // key id → *counter
}

type counter struct {
	n    atomic.Int64 // pending verifications; negative once retired
	last atomic.Int64 // Unix microseconds
}

// retired marks a dropped counter: an Add on it stays negative, so a
// verification that raced the drop counts on a new counter instead.
const retired = math.MinInt64 / 2

// record counts one verification of key id at now.
func (u *usage) record(id string, now time.Time) {
	c := u.add(id, 1)
	t := now.UnixMicro()
	for {
		old := c.last.Load()
		if t <= old || c.last.CompareAndSwap(old, t) {
			return
		}
	}
}

// add counts n verifications of id and returns its counter.
func (u *usage) add(id string, n int64) *counter {
	for {
		v, ok := u.counters.Load(id)
		if !ok {
			v, _ = u.counters.LoadOrStore(id, &counter{})
		}
		c := v.(*counter)
		if c.n.Add(n) >= 0 {
			return c
		}
		u.counters.CompareAndDelete(id, c) // retired by drain: start a new one
	}
}

// drain takes every pending count, and drops the counters of keys not
// verified since the last drain.
func (u *usage) drain() []Usage {
	var out []Usage
	u.counters.Range(func(k, v any) bool {
		c := v.(*counter)
		n := c.n.Swap(0)
		switch {
		case n > 0:
			out = append(out, Usage{ID: k.(string), Count: n, LastUsedAt: time.UnixMicro(c.last.Load()).UTC()})
		case c.n.CompareAndSwap(0, retired):
			u.counters.CompareAndDelete(k, c)
		}
		return true
	})
	return out
}

// restore puts back counts that could not be written.
func (u *usage) restore(batch []Usage) {
	for _, b := range batch {
		u.add(b.ID, b.Count)
	}
}

// forget drops the counter of a deleted key.
func (u *usage) forget(id string) { u.counters.Delete(id) }
