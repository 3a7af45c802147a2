package admin

import (
	"sync"
	"time"
)

// loginGuard slows password guessing on the console's sign-in: after a
// few failures for one username or one address, further attempts wait
// with exponential backoff, up to maxConsoleLockout (OWASP Authentication
// Cheat Sheet, "account lockout"). It lives in memory: each instance
// guards its own share.
type loginGuard struct {
	now func() time.Time

	mu       sync.Mutex
	failures map[string]*loginFailures
}

type loginFailures struct {
	count int
	until time.Time // no attempt before this
	last  time.Time
}

const (
	freeConsoleUserFailures = 5
	freeConsoleIPFailures   = 20
	maxConsoleLockout       = 15 * time.Minute
	consoleFailureMemory    = time.Hour
	maxGuardEntries         = 100_000
)

func newLoginGuard(now func() time.Time) *loginGuard {
	return &loginGuard{now: now, failures: map[string]*loginFailures{}}
}

// wait returns how long the username or address must still wait (0: go ahead).
func (g *loginGuard) wait(username, ip string) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	var d time.Duration
	for _, k := range []string{"u:" + username, "ip:" + ip} {
		if f := g.failures[k]; f != nil && f.until.After(now) {
			d = max(d, f.until.Sub(now))
		}
	}
	return d
}

// fail records a failed attempt.
func (g *loginGuard) fail(username, ip string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if len(g.failures) > maxGuardEntries {
		for k, f := range g.failures {
			if now.Sub(f.last) > consoleFailureMemory {
				delete(g.failures, k)
			}
		}
		if len(g.failures) > maxGuardEntries {
			g.failures = map[string]*loginFailures{}
		}
	}
	for _, k := range []struct {
		key  string
		free int
	}{{"u:" + username, freeConsoleUserFailures}, {"ip:" + ip, freeConsoleIPFailures}} {
		f := g.failures[k.key]
		if f == nil || now.Sub(f.last) > consoleFailureMemory {
			f = &loginFailures{}
			g.failures[k.key] = f
		}
		f.count++
		f.last = now
		if over := f.count - k.free; over > 0 {
			f.until = now.Add(min(time.Second<<min(over-1, 20), maxConsoleLockout))
		}
	}
}

// succeed forgets the username's failures.
func (g *loginGuard) succeed(username string) {
	g.mu.Lock()
	delete(g.failures, "u:"+username)
	g.mu.Unlock()
}
