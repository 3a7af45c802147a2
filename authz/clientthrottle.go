package authz

import (
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// authThrottle slows failed client authentication (RFC 6749 §10.10: the
// server must keep attackers from guessing client credentials). It counts
// failures in token buckets (golang.org/x/time/rate) on three keys:
//
//   - a client id at one address: 10 failures, then one per 6 seconds.
//     Beyond that the address is refused for that client before its
//     credentials are read.
//   - an address, whatever the client id: 60 failures, then one a second.
//     Beyond that the address is refused for every client, so a flood of
//     made-up client ids never reaches the database.
//   - a client id from any address: 60 failures, then one a second.
//     Failures beyond that are answered 429 instead of 401, but a request
//     with the right secret always passes: nobody can lock a client out by
//     naming it.
//
// A successful authentication costs one atomic load while no address is
// held back, and a read-locked map lookup while one is. The throttle lives
// in memory: each instance throttles its own share.
type authThrottle struct {
	now func() time.Time
	// holdUntil is the UnixNano until which some pair or address key
	// may refuse requests; 0 when none does (hold's fast path).
	holdUntil atomic.Int64

	mu      sync.RWMutex
	buckets map[throttleKey]*rate.Limiter
	audits  map[string]*auditCount // by client id; "" for unknown ids
}

type throttleKind uint8

const (
	throttlePair   throttleKind = iota // a client id at an address
	throttleAddr                       // an address
	throttleClient                     // a client id
)

// throttleKey names a bucket; client or addr is "" where kind has none.
type throttleKey struct {
	kind         throttleKind
	client, addr string
}

// throttlePolicies are the free failures (the bucket size) and the time
// each further one takes to become free, per kind.
var throttlePolicies = [...]struct {
	burst int
	every time.Duration
}{
	throttlePair:   {10, 6 * time.Second},
	throttleAddr:   {60, time.Second},
	throttleClient: {60, time.Second},
}

const (
	// maxThrottleEntries bounds the buckets (and audit windows) kept.
	maxThrottleEntries = 100_000
	// auditWindow is how often failures of one client id are audited at
	// most.
	auditWindow = time.Minute
)

// auditCount counts the failures of one client id since its last audit
// event.
type auditCount struct {
	recorded time.Time // of the last event
	failures int       // since then
}

func newAuthThrottle(now func() time.Time) *authThrottle {
	return &authThrottle{now: now, buckets: map[throttleKey]*rate.Limiter{}, audits: map[string]*auditCount{}}
}

// idle reports whether no address is held back now (hold would return 0
// for every request): one atomic load.
func (t *authThrottle) idle() bool { return t.holdUntil.Load() == 0 }

// hold returns how long requests naming client from addr must wait before
// their credentials are checked: the longer wait of the pair's and the
// address's buckets, or 0.
func (t *authThrottle) hold(client, addr string) time.Duration {
	until := t.holdUntil.Load()
	if until == 0 {
		return 0
	}
	now := t.now()
	if now.UnixNano() >= until {
		t.holdUntil.CompareAndSwap(until, 0) // a later hold replaced it: keep that
		return 0
	}
	t.mu.RLock()
	pair := t.buckets[throttleKey{throttlePair, client, addr}]
	address := t.buckets[throttleKey{throttleAddr, "", addr}]
	t.mu.RUnlock()
	return max(emptyFor(pair, now), emptyFor(address, now))
}

// emptyFor returns how long l has no token left, or 0.
func emptyFor(l *rate.Limiter, now time.Time) time.Duration {
	if l == nil {
		return 0
	}
	tokens := l.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) / float64(l.Limit()) * float64(time.Second))
}

// fail counts a failed authentication naming client ("" for none) from
// addr. It returns 0 while the failure is within every bucket, so it is
// answered as the failure it is (401), or how long the caller must wait
// (429) when a bucket was empty already.
func (t *authThrottle) fail(client, addr string) time.Duration {
	now := t.now()
	keys := []throttleKey{{throttleAddr, "", addr}}
	if client != "" {
		keys = append(keys, throttleKey{throttlePair, client, addr}, throttleKey{throttleClient, client, ""})
	}
	var wait time.Duration
	for _, k := range keys {
		l := t.bucket(k)
		allowed := l.AllowN(now, 1)
		empty := emptyFor(l, now)
		if !allowed {
			wait = max(wait, empty, time.Second)
		}
		if empty > 0 && k.kind != throttleClient {
			t.holdAtLeast(now.Add(empty).UnixNano())
		}
	}
	return wait
}

// bucket returns the bucket of k, made on first use.
func (t *authThrottle) bucket(k throttleKey) *rate.Limiter {
	t.mu.RLock()
	l := t.buckets[k]
	t.mu.RUnlock()
	if l != nil {
		return l
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if l = t.buckets[k]; l != nil {
		return l
	}
	if len(t.buckets) >= maxThrottleEntries {
		t.pruneLocked(t.now())
		if len(t.buckets) >= maxThrottleEntries {
			// Only buckets in use, and too many: start over rather than
			// grow without bound.
			t.buckets = map[throttleKey]*rate.Limiter{}
		}
	}
	p := throttlePolicies[k.kind]
	l = rate.NewLimiter(rate.Every(p.every), p.burst)
	t.buckets[k] = l
	return l
}

// holdAtLeast raises holdUntil to until.
func (t *authThrottle) holdAtLeast(until int64) {
	for {
		cur := t.holdUntil.Load()
		if cur >= until || t.holdUntil.CompareAndSwap(cur, until) {
			return
		}
	}
}

// auditDue counts one failure for client ("" for an unknown id) and
// reports whether it is to be audited now, at most once per auditWindow,
// with the number of failures the event stands for.
func (t *authThrottle) auditDue(client string) (failures int, due bool) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	w := t.audits[client]
	if w == nil {
		if len(t.audits) >= maxThrottleEntries {
			t.audits = map[string]*auditCount{}
		}
		w = &auditCount{}
		t.audits[client] = w
	}
	w.failures++
	if !w.recorded.IsZero() && now.Sub(w.recorded) < auditWindow {
		return 0, false
	}
	failures, w.failures, w.recorded = w.failures, 0, now
	return failures, true
}

// prune forgets full buckets, and audit windows that have ended with
// nothing left to report.
func (t *authThrottle) prune() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pruneLocked(t.now())
}

func (t *authThrottle) pruneLocked(now time.Time) {
	for k, l := range t.buckets {
		if l.TokensAt(now) >= float64(l.Burst()) {
			delete(t.buckets, k)
		}
	}
	for k, w := range t.audits {
		if w.failures == 0 && now.Sub(w.recorded) >= auditWindow {
			delete(t.audits, k)
		}
	}
}
