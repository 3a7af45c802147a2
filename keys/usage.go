package keys

import (
	"sync"
	"sync/atomic"
	"time"
)

// usage batches successful verifications in memory, so that a request
// never writes to the database; Service.Flush hands the batch to
// Store.RecordAPIKeyUsage.
type usage struct {
	counters sync.Map // key id → *counter; kept, since keys are few
}

type counter struct {
	n    atomic.Int64
	last atomic.Int64 // Unix microseconds
}

// record counts one verification of key id at now.
func (u *usage) record(id string, now time.Time) {
	v, ok := u.counters.Load(id)
	if !ok {
		v, _ = u.counters.LoadOrStore(id, &counter{})
	}
	c := v.(*counter)
	c.n.Add(1)
	t := now.UnixMicro()
	for {
		old := c.last.Load()
		if t <= old || c.last.CompareAndSwap(old, t) {
			return
		}
	}
}

// drain takes every pending count.
func (u *usage) drain() []Usage {
	var out []Usage
	u.counters.Range(func(k, v any) bool {
		c := v.(*counter)
		if n := c.n.Swap(0); n > 0 {
			out = append(out, Usage{ID: k.(string), Count: n, LastUsedAt: time.UnixMicro(c.last.Load()).UTC()})
		}
		return true
	})
	return out
}

// restore puts back counts that could not be written.
func (u *usage) restore(batch []Usage) {
	for _, b := range batch {
		v, _ := u.counters.LoadOrStore(b.ID, &counter{})
		v.(*counter).n.Add(b.Count)
	}
}

// forget drops the counter of a deleted key.
func (u *usage) forget(id string) { u.counters.Delete(id) }
