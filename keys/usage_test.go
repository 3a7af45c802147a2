package keys

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/keyward/keyward/keys/heaptest"
)

// TestUsageCountersDropIdleKeys: a drain takes the counts whole, so the
// counts kept are of the keys verified since the last drain, not of every
// key ever verified.
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
	if n := u.kept(); n != 1 {
		t.Fatalf("%d counts kept after an idle interval, want 1 (key-7, verified in it)", n)
	}
	if got := u.drain(); len(got) != 1 || got[0].ID != "key-7" || got[0].Count != 1 {
		t.Fatalf("second drain: %+v, want one verification of key-7", got)
	}
	if n := u.kept(); n != 0 {
		t.Errorf("%d counts kept after a drain", n)
	}
}

// kept is how many keys have counts pending.
func (u *usage) kept() int {
	n := 0
	for i := range u.shards {
		s := &u.shards[i]
		s.mu.Lock()
		n += s.counts.len()
		s.mu.Unlock()
	}
	return n
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

// drain takes every pending count as one list.
func (u *usage) drain() []Usage {
	taken := u.take()
	n := 0
	for _, m := range taken {
		n += m.len()
	}
	out := make([]Usage, 0, n)
	for _, m := range taken {
		for id, c := range m.all() {
			out = append(out, c.usage(id))
		}
	}
	return out
}

// TestUsageRestoreAndForget: counts put back after a failed write merge
// with those counted since (the latest use wins), and a deleted key's
// count goes.
func TestUsageRestoreAndForget(t *testing.T) {
	var u usage
	t0 := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	u.record("key-1", t0)
	u.record("key-2", t0)
	batch := u.drain()
	u.record("key-1", t0.Add(-time.Minute)) // a clock that stepped back: the later use stays
	u.record("key-1", t0.Add(-time.Minute))
	u.restore(batch)
	u.forget("key-2")
	got := u.drain()
	if len(got) != 1 || got[0].ID != "key-1" || got[0].Count != 3 || !got[0].LastUsedAt.Equal(t0) {
		t.Fatalf("after restore and forget: %+v, want key-1 used 3 times, last at %v", got, t0)
	}
}

// TestUsageRecordAllocatesNothing: counting a key already counted since
// the last drain allocates nothing (the verify path's budget).
func TestUsageRecordAllocatesNothing(t *testing.T) {
	var u usage
	now := time.Now()
	u.record("key-1", now)
	if n := testing.AllocsPerRun(100, func() { u.record("key-1", now) }); n != 0 {
		t.Errorf("record allocates %v times", n)
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

// TestFlushMemory: flushing the counts of 100,000 keys builds one
// chunk's list at a time, not a list of every key (4.8 MB, and as much
// again while it grew).
func TestFlushMemory(t *testing.T) {
	f := newFixture(t, nil)
	const n = 100_000
	for i := range n {
		f.svc.usage.record(fmt.Sprintf("key-%d", i), f.clock.Now())
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := f.svc.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	chunk := uint64(flushChunk) * uint64(unsafe.Sizeof(Usage{}))
	if got := after.TotalAlloc - before.TotalAlloc; got > chunk*3/2 {
		t.Errorf("a flush of %d keys allocated %d bytes; one chunk's list is %d", n, got, chunk)
	}
	if left := len(f.svc.usage.drain()); left != 0 {
		t.Errorf("%d counts left after the flush", left)
	}
}

// usageCalls counts usage writes and the keys they named, and fails them
// while failing is set.
type usageCalls struct {
	*memStore
	calls, keys atomic.Int64
	failing     atomic.Bool
}

func (u *usageCalls) RecordAPIKeyUsage(ctx context.Context, batch []Usage) error {
	u.calls.Add(1)
	if u.failing.Load() {
		return errors.New("database unavailable")
	}
	u.keys.Add(int64(len(batch)))
	return u.memStore.RecordAPIKeyUsage(ctx, batch)
}

// TestFlushEarly: once FlushKeys keys have counts waiting, Run writes them
// without waiting for FlushInterval, so the counts' memory is bounded by
// the number of keys rather than by how many are used in an interval.
// After an early write fails, Run waits for the interval: a store that is
// down is not asked again for every new key.
func TestFlushEarly(t *testing.T) {
	var us *usageCalls
	f := newFixture(t, func(c *Config) {
		us = &usageCalls{memStore: c.Store.(*memStore)}
		c.Store, c.FlushInterval, c.FlushKeys = us, time.Hour, 100
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.svc.Run(ctx) }()
	record := func(from, to int) {
		for i := from; i < to; i++ {
			f.svc.usage.record(fmt.Sprintf("key-%d", i), f.clock.Now())
		}
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d writes of %d keys", what, us.calls.Load(), us.keys.Load())
			}
		}
	}
	record(0, 99)
	record(0, 99) // counted again: still 99 keys
	time.Sleep(50 * time.Millisecond)
	if n := us.calls.Load(); n != 0 {
		t.Fatalf("%d writes with 99 keys waiting, fewer than FlushKeys", n)
	}
	record(99, 100)
	waitFor("100 keys waiting were not written early", func() bool { return us.keys.Load() == 100 })
	if n := f.svc.usage.pending.Load(); n != 0 {
		t.Errorf("%d keys still counted as waiting after the write", n)
	}
	us.failing.Store(true)
	record(100, 200)
	waitFor("no early write was tried", func() bool { return us.calls.Load() == 2 })
	record(200, 300)
	time.Sleep(100 * time.Millisecond)
	if n := us.calls.Load(); n != 2 {
		t.Errorf("%d writes: an early write that failed was tried again before the interval", n)
	}
	cancel()
	<-done // its last flush fails too
	if n := f.svc.usage.pending.Load(); n != 200 {
		t.Errorf("%d keys waiting after the failed writes, want 200", n)
	}
	us.failing.Store(false)
}

// TestUsageBytesPerKey: a tour of 100,000 keys verified once each costs
// the usage counts at most 80 bytes a key, with their own copy of each
// id (16 bytes here); a sync.Map of counters took about 200.
func TestUsageBytesPerKey(t *testing.T) {
	const n = 100_000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("key-%07d", i)
	}
	var u usage
	now := time.Now()
	before := heaptest.Live()
	for _, id := range ids {
		u.record(id, now)
	}
	heaptest.PerEntry(t, "key's usage count", before, n, 72) // 80 at most, with the tenth PerEntry allows
	runtime.KeepAlive(ids)
	if got := len(u.drain()); got != n {
		t.Fatalf("drained %d keys, want %d", got, n)
	}
}

// TestMergeUsage: repeats of an id add up, keep the latest time and the
// order of first appearance; a batch without repeats comes back as is.
func TestMergeUsage(t *testing.T) {
	t0 := time.Unix(1000, 0)
	plain := []Usage{{ID: "a", Count: 1, LastUsedAt: t0}, {ID: "b", Count: 2, LastUsedAt: t0}}
	if got := MergeUsage(plain); &got[0] != &plain[0] || len(got) != 2 {
		t.Errorf("no repeats: got %+v, not the batch itself", got)
	}
	batch := []Usage{{ID: "a", Count: 1, LastUsedAt: t0}, {ID: "b", Count: 2, LastUsedAt: t0},
		{ID: "a", Count: 3, LastUsedAt: t0.Add(time.Second)}, {ID: "c", Count: 1, LastUsedAt: t0},
		{ID: "b", Count: 5, LastUsedAt: t0.Add(-time.Second)}}
	want := []Usage{{ID: "a", Count: 4, LastUsedAt: t0.Add(time.Second)}, {ID: "b", Count: 7, LastUsedAt: t0},
		{ID: "c", Count: 1, LastUsedAt: t0}}
	if got := MergeUsage(batch); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if batch[0].Count != 1 || batch[1].Count != 2 {
		t.Errorf("the batch itself changed: %+v", batch)
	}
}

// TestSortedUsage: the merged batch in id order, never the caller's slice
// reordered.
func TestSortedUsage(t *testing.T) {
	t0 := time.Unix(1000, 0)
	plain := []Usage{{ID: "b", Count: 2, LastUsedAt: t0}, {ID: "a", Count: 1, LastUsedAt: t0}}
	got := SortedUsage(plain)
	if want := []Usage{{ID: "a", Count: 1, LastUsedAt: t0}, {ID: "b", Count: 2, LastUsedAt: t0}}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if plain[0].ID != "b" {
		t.Errorf("the caller's batch was reordered: %+v", plain)
	}
	repeats := []Usage{{ID: "c", Count: 1, LastUsedAt: t0}, {ID: "a", Count: 1, LastUsedAt: t0}, {ID: "c", Count: 2, LastUsedAt: t0}}
	if want := []Usage{{ID: "a", Count: 1, LastUsedAt: t0}, {ID: "c", Count: 3, LastUsedAt: t0}}; !reflect.DeepEqual(SortedUsage(repeats), want) {
		t.Errorf("repeats: got %+v, want %+v", SortedUsage(repeats), want)
	}
	if len(SortedUsage(nil)) != 0 {
		t.Error("an empty batch is not empty")
	}
}
