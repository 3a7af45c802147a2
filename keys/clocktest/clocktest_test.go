package clocktest

import (
	"sync"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	c := At(start)
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("Now() = %v, want %v", got, start)
	}
	c.Add(90 * time.Second)
	if got, want := c.Now(), start.Add(90*time.Second); !got.Equal(want) {
		t.Fatalf("after Add, Now() = %v, want %v", got, want)
	}
}

// TestClockConcurrent: readers and a writer at once (run with -race);
// each reader sees the time only move forward, and all moves count.
func TestClockConcurrent(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	c := At(start)
	const n = 1000
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := start
			for range n {
				now := c.Now()
				if now.Before(last) {
					t.Errorf("Now() went back from %v to %v", last, now)
					return
				}
				last = now
			}
		}()
	}
	for range n {
		c.Add(time.Millisecond)
	}
	wg.Wait()
	if got, want := c.Now(), start.Add(n*time.Millisecond); !got.Equal(want) {
		t.Fatalf("Now() = %v, want %v", got, want)
	}
}
