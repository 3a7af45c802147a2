package main

import (
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyward/keyward/authz/accounts"
)

// TestMemoryLimitSetting: --memory-limit reads sizes as GOMEMLIMIT does;
// unset, GOMEMLIMIT stays when given, else the default applies; each
// running password hash raises the limit by its memory.
func TestMemoryLimitSetting(t *testing.T) {
	for in, want := range map[string]int64{"96MiB": 96 << 20, "1GiB": 1 << 30, "134217728": 134217728, "512KiB": 512 << 10,
		"2TiB": 2 << 40, "100B": 100, "off": math.MaxInt64} {
		if got, err := parseMemoryLimit(in); err != nil || got != want {
			t.Errorf("parseMemoryLimit(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "96M", "96mib", "-1", "0", "1.5GiB", "99999999999TiB", "lots"} {
		if _, err := parseMemoryLimit(in); err == nil {
			t.Errorf("parseMemoryLimit(%q) accepted", in)
		}
	}
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "GOMEMLIMIT" {
				return v
			}
			return ""
		}
	}
	cases := []struct {
		flag, gomemlimit string
		limit            int64
		from             string
		ok               bool
	}{
		{"", "", defaultMemoryLimit, "default", true},
		{"", "200MiB", 0, "GOMEMLIMIT", false},
		{"256MiB", "200MiB", 256 << 20, "--memory-limit", true},
		{"off", "", math.MaxInt64, "--memory-limit", false},
	}
	for _, c := range cases {
		limit, from, ok, err := memoryLimit(c.flag, env(c.gomemlimit))
		if err != nil || limit != c.limit || from != c.from || ok != c.ok {
			t.Errorf("memoryLimit(%q) with GOMEMLIMIT=%q = %d %s %v %v; want %d %s %v", c.flag, c.gomemlimit, limit,
				from, ok, err, c.limit, c.from, c.ok)
		}
	}
	if got := hashRaisedLimit(96<<20, 2); got != 96<<20+2*accounts.HashMemory {
		t.Errorf("with two hashes running: %d", got)
	}
	if accounts.HashMemory != 64<<20 {
		t.Errorf("HashMemory %d, want argon2id's 64 MiB", accounts.HashMemory)
	}
	if got := hashRaisedLimit(math.MaxInt64-1, 1); got != math.MaxInt64 {
		t.Errorf("a raise past the largest limit: %d", got)
	}
}

// TestServeRefusesBadMemoryLimit: a --memory-limit that is not a size is
// a usage error at startup, named with the others.
func TestServeRefusesBadMemoryLimit(t *testing.T) {
	var c Config
	c.MemoryLimit = "lots"
	if err := c.ValidateServe(); err == nil || !strings.Contains(err.Error(), "--memory-limit") {
		t.Fatalf("ValidateServe with --memory-limit lots: %v", err)
	}
}

// TestHashMemoryReleased: once the last password hash under way ends, its
// memory is given back a moment later, once for a burst of overlapping
// hashes, and again after a later one; nothing is released while none
// has run, nor after undo. Not parallel: the hashing watch is the
// process's.
func TestHashMemoryReleased(t *testing.T) {
	var calls atomic.Int32
	defer func(d time.Duration, f func()) { hashRelease, releaseMemory = d, f }(hashRelease, releaseMemory)
	hashRelease, releaseMemory = 100*time.Millisecond, func() { calls.Add(1) }
	m := &Main{SetMemoryLimit: true}
	undo, err := m.applyMemoryLimit(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	settle := func(want int32) {
		t.Helper()
		time.Sleep(10 * hashRelease)
		if got := calls.Load(); got != want {
			t.Fatalf("memory released %d times, want %d", got, want)
		}
	}
	settle(0)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if _, err := accounts.HashPassword("correct horse battery"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	settle(1)
	if _, err := accounts.HashPassword("correct horse battery"); err != nil {
		t.Fatal(err)
	}
	settle(2)
	undo()
	if _, err := accounts.HashPassword("correct horse battery"); err != nil {
		t.Fatal(err)
	}
	settle(2)
}
