package main

import (
	"os"
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"sync"
)

// The collector's headroom when GOGC is not set: the heap may grow past
// the live heap by half of it, and by at least gcMinHeadroom, but never
// by more than gcMaxPercent of it. Go's default (GOGC=100) lets it grow
// by the whole live heap: with the caches full that headroom is the
// largest part of the resident set beyond the caches themselves (a live
// heap of 15 MiB after 60,000 fresh JWTs let the heap reach 30 MiB). A
// small live heap gets a little more than GOGC=100's 4 MiB: the token
// endpoint (a live heap near 4 MiB, the most garbage per request)
// collects less often than with Go's default, a heap full of cache
// entries half as often as it would.
const (
	gcHeadroomPercent = 50
	gcMinHeadroom     = 6 << 20
	gcMaxPercent      = 150
)

// gcPercent is the GOGC that gives a live heap of live bytes the
// headroom above: between gcHeadroomPercent and gcMaxPercent (100 when
// the live heap is not known).
func gcPercent(live uint64) int {
	if live == 0 {
		return 100
	}
	p := int(min(uint64(gcMinHeadroom)*100/live, gcMaxPercent))
	return max(p, gcHeadroomPercent)
}

// gcTuner sets GOGC after each collection from the live heap it found
// (gcPercent). A finalizer on an object allocated for the purpose runs
// once per collection that finds it unreachable; it allocates the next.
type gcTuner struct {
	mu      sync.Mutex
	stopped bool
	percent int
	before  int
	sample  []rtmetrics.Sample
}

type gcSentinel struct{ _ *byte } // holds a pointer: never a tiny allocation

// tuneGC starts the tuner for serve unless GOGC is set (the runtime's
// own setting stays, as Go users expect) or Main may not change the
// process's settings; it returns what stops it.
func (m *Main) tuneGC() (undo func()) {
	if !m.SetMemoryLimit || os.Getenv("GOGC") != "" {
		return func() {}
	}
	t := &gcTuner{percent: 100, sample: newGCSample()}
	t.before = debug.SetGCPercent(100)
	t.arm()
	return t.stop
}

func newGCSample() []rtmetrics.Sample { return []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}} }

func (t *gcTuner) arm() {
	runtime.SetFinalizer(&gcSentinel{}, func(*gcSentinel) { t.collected() })
}

// collected runs after a collection: it sets GOGC for the live heap
// that collection marked, and arms the next.
func (t *gcTuner) collected() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	rtmetrics.Read(t.sample)
	var live uint64
	if t.sample[0].Value.Kind() == rtmetrics.KindUint64 {
		live = t.sample[0].Value.Uint64()
	}
	if p := gcPercent(live); p != t.percent {
		t.percent = p
		debug.SetGCPercent(p)
	}
	t.arm()
}

func (t *gcTuner) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	debug.SetGCPercent(t.before)
}
