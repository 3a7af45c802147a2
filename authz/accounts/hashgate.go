package accounts

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// ErrBusy is returned by HashPassword, CheckPassword and Authenticate when
// too many passwords are being hashed at once and the wait for a turn ran
// out: the caller answers 503 with Retry-After (BusyRetryAfter), and the
// attempt counts neither as a success nor as a failure.
var ErrBusy = errors.New("accounts: too many passwords being checked at once; try again shortly")

// BusyRetryAfter is the Retry-After, in seconds, of an ErrBusy answer.
const BusyRetryAfter = 1

// Each argon2id hash takes 64 MiB and about a core's worth of time for a
// moment (RFC 9106 parameters, see password.go). Without a bound, a burst
// of sign-ins asks for 64 MiB each at once: 100 parallel logins would want
// 6.4 GiB. The gate lets HashLimit hashes run at once (default: the
// number of usable cores, at least 2), lets up to HashQueue more wait up
// to HashWait for a turn, and refuses the rest with ErrBusy at once, so
// memory stays near HashLimit × 64 MiB and the other endpoints keep the
// cores they need.
type hashGate struct {
	slots   chan struct{}
	queued  atomic.Int32
	queue   int32
	wait    time.Duration
	running atomic.Int32
	// peak is the most hashes seen running at once (for tests and metrics).
	peak atomic.Int32
}

var (
	gateMu sync.RWMutex
	gate   = newHashGate(0, 0, 0)
	// watch, when set, is called whenever a hash starts or ends.
	watch atomic.Pointer[func()]
)

// HashMemory is the memory one password hash takes (argon2id's m).
const HashMemory = argonMemory * 1024

// WatchHashing has f called whenever a password hash starts or ends (nil:
// stop), where it may read HashesRunning: serve raises the Go runtime's
// memory limit by HashMemory for each hash under way, so that a limit sized
// for the other endpoints does not make the collector run flat out during
// a burst of sign-ins. f must be quick; calls may overlap.
func WatchHashing(f func()) {
	if f == nil {
		watch.Store(nil)
		return
	}
	watch.Store(&f)
}

// HashesRunning is how many password hashes are under way.
func HashesRunning() int {
	gateMu.RLock()
	defer gateMu.RUnlock()
	return int(gate.running.Load())
}

// notifyWatch calls the WatchHashing function, if any.
func notifyWatch() {
	if f := watch.Load(); f != nil {
		(*f)()
	}
}

// Defaults of LimitHashing.
const (
	DefaultHashQueueFactor = 8
	DefaultHashWait        = 2 * time.Second
)

func newHashGate(limit, queue int, wait time.Duration) *hashGate {
	if limit <= 0 {
		limit = max(2, runtime.GOMAXPROCS(0))
	}
	if queue < 0 {
		queue = 0
	} else if queue == 0 {
		queue = DefaultHashQueueFactor * limit
	}
	if wait <= 0 {
		wait = DefaultHashWait
	}
	return &hashGate{slots: make(chan struct{}, limit), queue: int32(queue), wait: wait}
}

// LimitHashing sets how many password hashes run at once (limit; 0: the
// number of usable cores, at least 2), how many more may wait for a turn
// (queue; 0: 8 × limit, negative: none) and for how long (wait; 0: 2 s).
// Call it before serving; the process has one gate, since the memory and
// cores it guards are the process's.
func LimitHashing(limit, queue int, wait time.Duration) {
	g := newHashGate(limit, queue, wait)
	gateMu.Lock()
	gate = g
	gateMu.Unlock()
}

// HashPeak returns the most password hashes that have run at once.
func HashPeak() int {
	gateMu.RLock()
	defer gateMu.RUnlock()
	return int(gate.peak.Load())
}

// hashing runs fn (one argon2id hash) when the gate gives it a turn.
func hashing(ctx context.Context, fn func()) error {
	gateMu.RLock()
	g := gate
	gateMu.RUnlock()
	select {
	case g.slots <- struct{}{}:
	default:
		if g.queued.Add(1) > g.queue {
			g.queued.Add(-1)
			return ErrBusy
		}
		t := time.NewTimer(g.wait)
		select {
		case g.slots <- struct{}{}:
			t.Stop()
			g.queued.Add(-1)
		case <-t.C:
			g.queued.Add(-1)
			return ErrBusy
		case <-ctx.Done():
			t.Stop()
			g.queued.Add(-1)
			return ctx.Err()
		}
	}
	defer func() { <-g.slots }()
	n := g.running.Add(1)
	notifyWatch()
	defer func() {
		g.running.Add(-1)
		notifyWatch()
	}()
	for {
		p := g.peak.Load()
		if n <= p || g.peak.CompareAndSwap(p, n) {
			break
		}
	}
	fn()
	return nil
}

// HoldHashTurns takes n of the gate's turns, as n long hashes would, until
// release is called: for tests of what callers answer when the gate is
// full.
func HoldHashTurns(n int) (release func()) {
	gateMu.RLock()
	g := gate
	gateMu.RUnlock()
	for range n {
		g.slots <- struct{}{}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			for range n {
				<-g.slots
			}
		})
	}
}
