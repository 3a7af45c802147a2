package keys

import (
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
