package authz

import (
	"runtime"
	"testing"
	"time"

	"github.com/keyward/keyward/keys/heaptest"
)

// BenchmarkCacheMarkCost is what the full verified-token and opaque
// introspection caches cost each collection: each iteration is one forced
// collection with neither, one or both caches full (as after a burst of
// fresh tokens and a tour of opaque ones). mark-µs/GC is the collector's
// marking CPU a cycle (it varies with the machine), objects the heap's
// objects and scanned-B/GC the heap bytes the last cycle scanned (they do
// not); see docs/PERFORMANCE.md, "What full caches cost every request".
func BenchmarkCacheMarkCost(b *testing.B) {
	for _, full := range []string{"none", "opaque", "verify", "both"} {
		b.Run("full="+full, func(b *testing.B) {
			now := time.Now()
			clock := func() time.Time { return now }
			oc, vc := newOpaqueCache(clock, noObserver{}), newVerifyCache(clock)
			if full == "opaque" || full == "both" {
				fillOpaqueCache(b, oc, now, 20_000)
			}
			if full == "verify" || full == "both" {
				fillVerifyCache(b, vc, now, 12_000)
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			before := heaptest.MarkCPU()
			for b.Loop() {
				runtime.GC()
			}
			b.ReportMetric(float64((heaptest.MarkCPU()-before).Microseconds())/float64(b.N), "mark-µs/GC")
			b.ReportMetric(float64(ms.HeapObjects), "objects")
			b.ReportMetric(float64(heaptest.ScannedLastCycle()), "scanned-B/GC")
			b.ReportMetric(float64(oc.len()+vc.len()), "entries")
			runtime.KeepAlive(oc)
			runtime.KeepAlive(vc)
		})
	}
}

// fillOpaqueCache fills c with n answers shaped as introspection's, as a
// tour of tokens read once each does (newcomers).
func fillOpaqueCache(tb testing.TB, c *opaqueCache, now time.Time, n int) {
	tb.Helper()
	for i := range n {
		requestID, client, body := opaqueAnswerOf(i)
		c.fill(c.generation(), opaqueTokenOf(i), requestID, client, now.Add(time.Hour), body)
	}
}

// fillVerifyCache puts n verified tokens' claims into c, decoded as
// verifyAccessToken decodes them.
func fillVerifyCache(tb testing.TB, c *verifyCache, now time.Time, n int) {
	tb.Helper()
	for i := range n {
		key, payload := verifiedTokenOf(i, now.Unix())
		claims := new(AccessClaims)
		if err := decodeAccessClaims([]byte(payload), claims); err != nil {
			tb.Fatal(err)
		}
		claims.audiences = claims.Audiences()
		c.put(key, claims)
	}
}

// BenchmarkOpaqueCacheGet is a cached opaque answer's lookup: its body
// copied into the caller's buffer, its client id into a string.
func BenchmarkOpaqueCacheGet(b *testing.B) {
	now := time.Now()
	c := newOpaqueCache(func() time.Time { return now }, noObserver{})
	fillOpaqueCache(b, c, now, 1000)
	tok := opaqueTokenOf(500)
	buf := make([]byte, 0, 1024)
	if _, _, ok := c.get(tok, buf); !ok {
		b.Fatal("not cached")
	}
	b.ReportAllocs()
	for b.Loop() {
		c.get(tok, buf)
	}
}
