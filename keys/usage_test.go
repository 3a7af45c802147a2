package keys

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestUsageCountersDropIdleKeys: a key's counter goes once a flush
// interval passes without a verification of it, so the counters are as
// many as the keys in use, not every key ever verified.
func TestUsageCountersDropIdleKeys(t *testing.T) {
	var u usage
	now := time.Now()
	for i := range 1000 {
		u.record(fmt.Sprintf("key-%d", i), now)
	}
	if got := len(u.drain()); got != 1000 {
		t.Fatalf("first drain: %d keys, want 1000", got)
	}
	u.record("key-7", now)
	if got := u.drain(); len(got) != 1 || got[0].ID != "key-7" || got[0].Count != 1 {
		t.Fatalf("second drain: %+v, want one verification of key-7", got)
	}
	n := 0
	u.counters.Range(func(any, any) bool { n++; return true })
	if n != 1 {
		t.Fatalf("%d counters kept after an idle interval, want 1 (key-7, verified in it)", n)
	}
	u.drain()
	u.counters.Range(func(k, _ any) bool { t.Errorf("counter of %v kept after an idle interval", k); return true })
}

// TestUsageCountsSurviveDrops: verifications racing the drains that drop
// idle counters are all counted, none lost on a dropped counter.
func TestUsageCountsSurviveDrops(t *testing.T) {
	var u usage
	const workers, each = 8, 5000
	var wg sync.WaitGroup
	done := make(chan struct{})
	total := map[string]int64{}
	var mu sync.Mutex
	collect := func() {
		mu.Lock()
		defer mu.Unlock()
		for _, b := range u.drain() {
			total[b.ID] += b.Count
		}
	}
	collector := make(chan struct{})
	go func() {
		defer close(collector)
		for {
			select {
			case <-done:
				return
			default:
				collect()
			}
		}
	}()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				u.record(fmt.Sprintf("key-%d", (w+i)%3), time.Now()) // few keys, often idle between drains
			}
		}()
	}
	wg.Wait()
	close(done)
	<-collector
	collect()
	var sum int64
	for _, n := range total {
		sum += n
	}
	if sum != workers*each {
		t.Fatalf("%d verifications counted, want %d", sum, workers*each)
	}
}

// TestUsageCountOnRetiredCounter: a verification that finds a counter a
// drain has just retired counts on a new one.
func TestUsageCountOnRetiredCounter(t *testing.T) {
	var u usage
	old := &counter{}
	old.n.Store(retired)
	u.counters.Store("key-1", old) // as a drain leaves it, just before it deletes it
	u.record("key-1", time.Now())
	if got := u.drain(); len(got) != 1 || got[0].Count != 1 {
		t.Fatalf("drain after a verification on a retired counter: %+v, want one", got)
	}
}

// chunkStore records the size of each usage write and fails the one
// numbered failAt (from 1; 0: none).
type chunkStore struct {
	*memStore
	sizes  []int
	failAt int
}

func (c *chunkStore) RecordAPIKeyUsage(ctx context.Context, batch []Usage) error {
	c.sizes = append(c.sizes, len(batch))
	if len(c.sizes) == c.failAt {
		return errors.New("database unavailable")
	}
	return c.memStore.RecordAPIKeyUsage(ctx, batch)
}

// TestFlushInChunks: a flush writes at most flushChunk keys' counts a
// write, and the counts of a write that fails, and of those after it, are
// kept for the next flush.
func TestFlushInChunks(t *testing.T) {
	var cs *chunkStore
	f := newFixture(t, func(c *Config) {
		cs = &chunkStore{memStore: c.Store.(*memStore)}
		c.Store = cs
	})
	record := func() {
		for i := range 25_000 {
			f.svc.usage.record(fmt.Sprintf("key-%d", i), f.clock.Now())
		}
	}
	record()
	if err := f.svc.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(cs.sizes) != "[10000 10000 5000]" {
		t.Fatalf("writes of %v keys, want [10000 10000 5000]", cs.sizes)
	}
	cs.sizes, cs.failAt = nil, 2
	record()
	if err := f.svc.Flush(context.Background()); err == nil {
		t.Fatal("a failed write was not reported")
	}
	var kept int64
	for _, u := range f.svc.usage.drain() {
		kept += u.Count
	}
	if kept != 15_000 {
		t.Errorf("%d counts kept after the second of three writes failed, want 15000", kept)
	}
}
