package accounts

import (
	"net/netip"
	"sync"
	"time"
)

// LoginGuard slows password guessing without letting anyone lock a
// known user out (see the package documentation for the policy). It
// counts failures on three keys, each with its free failures and then an
// exponential backoff up to 15 minutes:
//
//   - the username and the client address together (5 free): whoever
//     guesses a user's password from one address waits, the user
//     elsewhere does not;
//   - the username alone (100 free): guessing spread over many addresses
//     is slowed too, but attempts from an address the user signed in from
//     within the last 30 days are exempt, so the user keeps their way in;
//   - the address alone (20 free): one address cannot spray usernames.
//
// Failures fade an hour after the last one. It lives in memory: each
// instance guards its own share. The login page and the admin console
// each keep one.
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
	known    map[string]time.Time // pair key → latest successful sign-in
}

type failure struct {
	count   int // settled failures
	pending int // attempts in flight, provisionally failures
	until   time.Time
	last    time.Time // of the latest failure: failures fade failureMemory after it
}

const (
	freePairFailures = 5
	freeUserFailures = 100
	freeIPFailures   = 20
	maxLockout       = 15 * time.Minute
	failureMemory    = time.Hour
	// knownMemory is how long a successful sign-in exempts its address
	// from the per-username limit.
	knownMemory     = 30 * 24 * time.Hour
	maxGuardEntries = 200_000
	maxKnownEntries = 200_000
	// inFlightWait is the wait for an attempt refused because earlier
	// ones are still being checked.
	inFlightWait = time.Second
)

// NewLoginGuard returns an empty guard on the clock now.
func NewLoginGuard(now func() time.Time) *LoginGuard {
	return &LoginGuard{now: now, failures: map[string]*failure{}, known: map[string]time.Time{}}
}

// Attempt is one login attempt reserved by Begin. Settle it with Fail or
// Succeed; Cancel releases it without a verdict (a server error). Only the
// first of these counts, so a deferred Cancel is safe.
type Attempt struct {
	g    *LoginGuard
	keys []guardKey // the counters the attempt reserved; keys[0] is the pair
	done bool       // guarded by g.mu
}

type guardKey struct {
	key  string
	free int
}

// guardKeys are the counters of an attempt for username from addr (an
// AddressKey): the pair, the address and, unless the pair is known, the
// username.
func guardKeys(username, addr string, known bool) []guardKey {
	keys := []guardKey{{pairKey(username, addr), freePairFailures}, {"ip:" + addr, freeIPFailures}}
	if !known {
		keys = append(keys, guardKey{"u:" + username, freeUserFailures})
	}
	return keys
}

// pairKey names a username at an address (which holds no space).
func pairKey(username, addr string) string { return "p:" + addr + " " + username }

// AddressKey is the unit a client address is counted in, here and by
// the client-authentication throttle of authz: an IPv4 address, or the
// /64 of an IPv6 one (one host's usual allocation, RFC 6177), so that
// walking a prefix does not give fresh attempts.
func AddressKey(ip string) string {
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
// attempt must wait instead (and a nil Attempt).
func (g *LoginGuard) Begin(username, ip string) (*Attempt, time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	if len(g.failures) > maxGuardEntries {
		g.pruneLocked(now)
	}
	addr := AddressKey(ip)
	at, known := g.known[pairKey(username, addr)]
	keys := guardKeys(username, addr, known && now.Sub(at) <= knownMemory)
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
	return &Attempt{g: g, keys: keys}, 0
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
	for _, k := range a.keys {
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

// Succeed records a successful sign-in: the failures of the username at
// this address are forgotten (the username's and the address's are kept)
// and the address becomes known for the username, exempt from the
// per-username limit for knownMemory.
func (a *Attempt) Succeed() {
	a.settle(func(k guardKey, f *failure, now time.Time) {
		if k.key == a.keys[0].key {
			f.count, f.until = 0, time.Time{}
			a.g.remember(k.key, now)
		}
	})
}

// remember marks a pair known, keeping at most maxKnownEntries.
func (g *LoginGuard) remember(pair string, now time.Time) {
	if _, ok := g.known[pair]; !ok && len(g.known) >= maxKnownEntries {
		g.forgetKnown(now)
		if len(g.known) >= maxKnownEntries {
			g.known = map[string]time.Time{} // a flood of sign-ins: start over
		}
	}
	g.known[pair] = now
}

// Cancel releases the attempt without counting it.
func (a *Attempt) Cancel() {
	a.settle(func(guardKey, *failure, time.Time) {})
}

// Prune forgets failures older than an hour and known addresses older
// than 30 days.
func (g *LoginGuard) Prune() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pruneLocked(g.now())
}

// forgetKnown drops the known pairs older than knownMemory.
func (g *LoginGuard) forgetKnown(now time.Time) {
	for k, at := range g.known {
		if now.Sub(at) > knownMemory {
			delete(g.known, k)
		}
	}
}

func (g *LoginGuard) pruneLocked(now time.Time) {
	g.forgetKnown(now)
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
