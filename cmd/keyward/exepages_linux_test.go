package main

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestDropStartupPages: the executable's read-only pages leave the
// resident set, and the code still runs (what it needs faults back in).
func TestDropStartupPages(t *testing.T) {
	if traced() {
		t.Skip("a debugger is attached")
	}
	before := rssFileKiB(t)
	dropped := dropStartupPages()
	after := rssFileKiB(t)
	t.Logf("RssFile %d KiB → %d KiB, %d KiB dropped", before, after, dropped>>10)
	if dropped <= 0 || after >= before {
		t.Errorf("nothing dropped: RssFile %d KiB → %d KiB, dropped %d bytes", before, after, dropped)
	}
	if got := gcPercent(16 << 20); got != 50 { // code runs again
		t.Errorf("gcPercent after the drop: %d", got)
	}
}

func rssFileKiB(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	t.Skip("no RssFile")
	return 0
}
