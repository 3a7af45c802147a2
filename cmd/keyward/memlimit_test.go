package main

import (
	"math"
	"strings"
	"testing"

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
