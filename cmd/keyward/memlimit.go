package main

import (
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/keyward/keyward/authz/accounts"
)

// defaultMemoryLimit is serve's Go memory limit when neither
// --memory-limit nor GOMEMLIMIT sets one. Every cache is bounded in bytes
// (API keys 32 MiB, opaque introspection answers 8 MiB, verified JWTs
// 4 MiB, clients 8 MiB), so the live heap stays near 62 MiB whatever the
// data; a soft limit of 96 MiB keeps the collector's garbage within it,
// where the default GOGC alone would let the heap grow to twice the live
// data (gctune.go lowers that headroom to half). The executable's own
// pages (about 25–30 MiB resident under load once the start-up pages are
// dropped, exepages_linux.go) come on top: the resident set stays under
// 128 MiB.
const defaultMemoryLimit = 96 << 20

// parseMemoryLimit reads a memory limit as GOMEMLIMIT writes it: a
// number of bytes with an optional unit B, KiB, MiB, GiB or TiB, or "off"
// (no limit, math.MaxInt64).
func parseMemoryLimit(s string) (int64, error) {
	if s == "off" {
		return math.MaxInt64, nil
	}
	num, mult := s, int64(1)
	for i, unit := range []string{"TiB", "GiB", "MiB", "KiB", "B"} {
		if n, ok := strings.CutSuffix(s, unit); ok {
			num, mult = n, int64(1)<<(10*(4-i))
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("--memory-limit: %q is not a size like 96MiB, 1GiB or 134217728, nor off", s)
	}
	return n * mult, nil
}

// memoryLimit is what serve's Go memory limit is: limit bytes (for the
// process apart from password hashing), and where it comes from. ok is
// false when the runtime's own (GOMEMLIMIT, or none) stays.
func memoryLimit(flag string, getenv func(string) string) (limit int64, from string, ok bool, err error) {
	switch {
	case flag != "":
		limit, err = parseMemoryLimit(flag)
		return limit, "--memory-limit", err == nil && limit != math.MaxInt64, err
	case getenv("GOMEMLIMIT") != "":
		return 0, "GOMEMLIMIT", false, nil
	}
	return defaultMemoryLimit, "default", true, nil
}

// applyMemoryLimit sets the Go runtime's soft memory limit for serve
// (Main.SetMemoryLimit), raised by accounts.HashMemory for each password
// hash under way, and returns what undoes it.
//
// When the last hash under way ends, its 64 MiB are garbage that the
// runtime would collect only once the heap grows to its next goal, which
// the hash itself raised: an idle server kept them for up to two minutes
// (its forced collection), a busy one for thousands of requests. So
// hashRelease after the last hash ends, unless another has started, the
// memory is collected and given back to the system (releaseMemory).
func (m *Main) applyMemoryLimit(log *slog.Logger) (undo func(), err error) {
	limit, from, ok, err := memoryLimit(m.Config.MemoryLimit, os.Getenv)
	if err != nil || !ok || !m.SetMemoryLimit {
		return func() {}, err
	}
	before := debug.SetMemoryLimit(-1)
	var (
		mu      sync.Mutex
		release *time.Timer
	)
	set := func() (running int) {
		running = accounts.HashesRunning()
		debug.SetMemoryLimit(hashRaisedLimit(limit, running))
		return running
	}
	set()
	accounts.WatchHashing(func() {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case set() > 0:
			if release != nil {
				release.Stop()
			}
		case release == nil:
			release = time.AfterFunc(hashRelease, func() {
				if accounts.HashesRunning() == 0 {
					releaseMemory()
				}
			})
		default:
			release.Reset(hashRelease)
		}
	})
	log.Debug("memory limit", "bytes", limit, "from", from)
	return func() {
		accounts.WatchHashing(nil)
		mu.Lock()
		if release != nil {
			release.Stop()
		}
		mu.Unlock()
		debug.SetMemoryLimit(before)
	}, nil
}

// hashRelease is how long after the last password hash ends its memory
// is given back (a burst of logins gives it back once, after the burst).
var hashRelease = time.Second

// releaseMemory collects garbage and returns free memory to the system
// (tests count its calls).
var releaseMemory = debug.FreeOSMemory

// hashRaisedLimit is limit raised for running password hashes.
func hashRaisedLimit(limit int64, running int) int64 {
	if raise := int64(running) * accounts.HashMemory; limit <= math.MaxInt64-raise {
		return limit + raise
	}
	return math.MaxInt64
}
