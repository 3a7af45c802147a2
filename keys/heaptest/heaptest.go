// Package heaptest measures the live heap for the caches' memory tests:
// what a cache's weigher says an entry costs, and what its byte budget
// says it may hold, are checked against the memory really taken.
package heaptest

import (
	"runtime"
	"testing"
)

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
