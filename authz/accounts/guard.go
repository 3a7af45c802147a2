package accounts

import (
	"net/netip"
	"sync"
	"time"
)

// LoginGuard slows password guessing: after a few failures for one
// username or one client address, further attempts wait with exponential
// backoff up to 15 minutes (OWASP Authentication Cheat Sheet, "account
// lockout"). It lives in memory: each instance guards its own share. The
// login page and the admin console each keep one.
//
// An attempt is reserved with Begin before the password is checked and
// counts as a failure while it is in flight, so parallel requests cannot
// all pass the check before the first failure is recorded: once the free
// failures are used up (counting those in flight), attempts go one at a
// time and each failure lengthens the wait.
type LoginGuard struct {
	now func() time.Time

	mu       sync.Mutex
	failures map[string]*failure
}

type failure struct {
	count   int // settled failures
	pending int // attempts in flight, provisionally failures
	until   time.Time
	last    time.Time // of the latest failure: failures fade failureMemory after it
}

const (
	freeUserFailures = 5
	freeIPFailures   = 20
	maxLockout       = 15 * time.Minute
	failureMemory    = time.Hour
	maxGuardEntries  = 200_000
	// inFlightWait is the wait for an attempt refused because earlier
	// ones are still being checked.
	inFlightWait = time.Second
)

// NewLoginGuard returns an empty guard on the clock now.
func NewLoginGuard(now func() time.Time) *LoginGuard {
	return &LoginGuard{now: now, failures: map[string]*failure{}}
}

// Attempt is one login attempt reserved by Begin. Settle it with Fail or
// Succeed; Cancel releases it without a verdict (a server error). Only the
// first of these counts, so a deferred Cancel is safe.
type Attempt struct {
	g            *LoginGuard
	username, ip string
	done         bool // guarded by g.mu
}

type guardKey struct {
	key  string
	free int
}

func guardKeys(username, ip string) [2]guardKey {
	return [2]guardKey{{"u:" + username, freeUserFailures}, {"ip:" + addressKey(ip), freeIPFailures}}
}

// addressKey is the unit an address is counted in: an IPv4 address, or
// the /64 of an IPv6 one (one host's usual allocation, RFC 6177), so that
// walking a prefix does not give fresh attempts.
func addressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Unmap().Is4() {
		return ip
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}

// Begin reserves an attempt for username from ip, or returns how long the
// user or address must wait instead (and a nil Attempt).
func (g *LoginGuard) Begin(username, ip string) (*Attempt, time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if len(g.failures) > maxGuardEntries {
		g.pruneLocked(now)
	}
	keys := guardKeys(username, ip)
	var wait time.Duration
	for _, k := range keys {
		f := g.failures[k.key]
		if f == nil {
			continue
		}
		g.forgetStale(f, now)
		switch {
		case f.until.After(now):
			wait = max(wait, f.until.Sub(now))
		case f.pending > 0 && f.count+f.pending >= k.free:
			wait = max(wait, inFlightWait)
		}
	}
	if wait > 0 {
		return nil, wait
	}
	for _, k := range keys {
		f := g.failures[k.key]
		if f == nil {
			f = &failure{}
			g.failures[k.key] = f
		}
		f.pending++
	}
	return &Attempt{g: g, username: username, ip: ip}, 0
}

// forgetStale drops settled failures older than failureMemory.
func (g *LoginGuard) forgetStale(f *failure, now time.Time) {
	if now.Sub(f.last) > failureMemory {
		f.count, f.until = 0, time.Time{}
	}
}

// settle ends the attempt once, under the lock, applying fn to the
// failure record of each key (creating it if it was pruned meanwhile).
func (a *Attempt) settle(fn func(k guardKey, f *failure, now time.Time)) {
	if a == nil {
		return
	}
	g := a.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if a.done {
		return
	}
	a.done = true
	now := g.now()
	for _, k := range guardKeys(a.username, a.ip) {
		f := g.failures[k.key]
		if f == nil {
			f = &failure{}
			g.failures[k.key] = f
		}
		f.pending = max(f.pending-1, 0)
		fn(k, f, now)
		if f.pending == 0 && f.count == 0 {
			delete(g.failures, k.key)
		}
	}
}

// Fail records the attempt as a failure, starting or lengthening the
// backoff once the free failures are used up.
func (a *Attempt) Fail() {
	a.settle(func(k guardKey, f *failure, now time.Time) {
		a.g.forgetStale(f, now)
		f.count++
		f.last = now
		if over := f.count - k.free; over > 0 {
			d := time.Second << min(over-1, 20)
			f.until = now.Add(min(d, maxLockout))
		}
	})
}

// Succeed records a successful sign-in: the user's failures are
// forgotten (the address's are kept).
func (a *Attempt) Succeed() {
	a.settle(func(k guardKey, f *failure, _ time.Time) {
		if k.key == "u:"+a.username {
			f.count, f.until = 0, time.Time{}
		}
	})
}

// Cancel releases the attempt without counting it.
func (a *Attempt) Cancel() {
	a.settle(func(guardKey, *failure, time.Time) {})
}

// Prune forgets failures older than an hour.
func (g *LoginGuard) Prune() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pruneLocked(g.now())
}

func (g *LoginGuard) pruneLocked(now time.Time) {
	for k, f := range g.failures {
		if f.pending == 0 && now.Sub(f.last) > failureMemory {
			delete(g.failures, k)
		}
	}
	if len(g.failures) <= maxGuardEntries {
		return
	}
	// Still too many (a flood of names): drop what is not locked out
	// now, keeping every running lockout.
	for k, f := range g.failures {
		if f.pending == 0 && !f.until.After(now) {
			delete(g.failures, k)
		}
	}
	if len(g.failures) > maxGuardEntries {
		// Only lockouts left, and too many of them: start over rather
		// than grow without bound.
		g.failures = map[string]*failure{}
	}
}
