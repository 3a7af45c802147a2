package main

import (
	"runtime"
	"testing"
	"time"
)

// TestParseProcStatCPU: utime and stime are counted after the process
// name's last ')', whatever the name holds.
func TestParseProcStatCPU(t *testing.T) {
	for stat, want := range map[string]time.Duration{
		"1234 (keyward) S 1 1234 1234 0 -1 4194304 100 0 0 0 250 31 0 0 20 0 8 0 5 0 0\n": 2810 * time.Millisecond,
		"99 (a b) (c)) R 1 99 99 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0\n":                       100 * time.Millisecond,
	} {
		got, ok := parseProcStatCPU([]byte(stat))
		if !ok || got != want {
			t.Errorf("parseProcStatCPU(%q) = %v, %v; want %v", stat, got, ok, want)
		}
	}
	for _, bad := range []string{"", "1234 keyward S 1", "1 (x) S 1 2 3", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 x 3", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 -5 3"} {
		if d, ok := parseProcStatCPU([]byte(bad)); ok {
			t.Errorf("parseProcStatCPU(%q) = %v, accepted", bad, d)
		}
	}
	if runtime.GOOS == "linux" {
		before, ok := cpuTime(0)
		for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
		}
		after, ok2 := cpuTime(0)
		if !ok || !ok2 || after <= before {
			t.Errorf("this process's CPU time: %v then %v (%v, %v) after 50 ms of spinning", before, after, ok, ok2)
		}
	}
	if got := perRequest(time.Second, 3*time.Second, true, true, 4); got != 500*time.Millisecond {
		t.Errorf("perRequest: %v", got)
	}
	for _, c := range []struct {
		ok1, ok2 bool
		n        int64
		after    time.Duration
	}{{false, true, 4, 3 * time.Second}, {true, false, 4, 3 * time.Second}, {true, true, 0, 3 * time.Second}, {true, true, 4, 0}} {
		if got := perRequest(time.Second, c.after, c.ok1, c.ok2, c.n); got != 0 {
			t.Errorf("perRequest(%+v) = %v, want 0 (unknown)", c, got)
		}
	}
}
