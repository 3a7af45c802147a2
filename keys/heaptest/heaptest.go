// Package heaptest measures the live heap for the caches' memory tests:
// what a cache's weigher says an entry costs, and what its byte budget
// says it may hold, are checked against the memory really taken.
package heaptest

import (
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

// MarkCPU is the CPU time the collector has spent marking, over the whole
// process so far: the cost of what the heap holds, for the benchmarks of
// what a full cache costs each collection.
func MarkCPU() time.Duration {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/mark/assist:cpu-seconds"},
		{Name: "/cpu/classes/gc/mark/dedicated:cpu-seconds"}, {Name: "/cpu/classes/gc/mark/idle:cpu-seconds"}}
	metrics.Read(s)
	var sec float64
	for _, v := range s {
		if v.Value.Kind() == metrics.KindFloat64 {
			sec += v.Value.Float64()
		}
	}
	return time.Duration(sec * float64(time.Second))
}

// ScannedLastCycle is the heap bytes the last collection scanned: unlike
// MarkCPU, the same from run to run for the same heap.
func ScannedLastCycle() uint64 {
	s := []metrics.Sample{{Name: "/gc/scan/heap:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// Live is the live heap after a full collection.
func Live() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// PerEntry fails t unless each of the n entries that grew the live heap
// from before (a Live reading) takes at most weight, what the cache
// weighs one, and a tenth for the measurement's noise: so the cache's
// byte budget bounds its memory. what names an entry in the messages.
func PerEntry(t testing.TB, what string, before int64, n int, weight int64) {
	t.Helper()
	per := (Live() - before) / int64(n)
	t.Logf("%d bytes per %s, weighed %d", per, what, weight)
	if per > weight*11/10 {
		t.Errorf("a %s takes %d bytes, more than its weight %d: the budget does not bound memory", what, per, weight)
	}
}

// Bounded fails t unless the live heap grew from before (a Live reading)
// by at most budget, a cache's byte budget, and a tenth.
func Bounded(t testing.TB, budget, before int64) {
	t.Helper()
	if grown := Live() - before; grown > budget*11/10 {
		t.Errorf("a cache of %d bytes grew the heap by %d", budget, grown)
	}
}
