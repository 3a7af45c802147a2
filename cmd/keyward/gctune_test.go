package main

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// TestGCPercent: the headroom is half the live heap, at least 6 MiB, and
// never more than GOGC=150 gives.
func TestGCPercent(t *testing.T) {
	for live, want := range map[uint64]int{0: 100, 1 << 20: 150, 4 << 20: 150, 5 << 20: 120, 8 << 20: 75, 12 << 20: 50,
		15 << 20: 50, 1 << 30: 50} {
		if got := gcPercent(live); got != want {
			t.Errorf("gcPercent(%d MiB) = %d, want %d", live>>20, got, want)
		}
	}
}

// TestGCTuner: after a collection that finds a live heap of 32 MiB, GOGC
// is 50; stopped, it is what it was before.
func TestGCTuner(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	tu := &gcTuner{percent: 100, before: 100, sample: newGCSample()}
	live := make([]byte, 32<<20)
	tu.arm()
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		tu.mu.Lock()
		p := tu.percent
		tu.mu.Unlock()
		if p == 50 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GOGC still %d after collections with a live heap of 32 MiB", p)
		}
		time.Sleep(10 * time.Millisecond)
	}
	runtime.KeepAlive(live)
	if got := debug.SetGCPercent(50); got != 50 {
		t.Errorf("the runtime's GOGC is %d, want 50", got)
	}
	tu.stop()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("after stop GOGC is %d, want 100 as before", got)
	}
}
