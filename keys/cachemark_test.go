package keys

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

// gcMarkCPU is the CPU time the collector has spent marking, over the
// whole process so far.
func gcMarkCPU() time.Duration {
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

// BenchmarkCacheMarkCost is what a full key cache costs each collection:
// the cache holds 100,000 keys (a warm tour at scale) and each iteration
// is one forced collection; mark-µs/GC is the collector's marking CPU a
// cycle (subtract the empty case). Under a warm tour the server collects
// several times a second, so this is the cache's share of the
// collector's work (docs/PERFORMANCE.md, "Figures").
func BenchmarkCacheMarkCost(b *testing.B) {
	for _, n := range []int{0, 100_000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			c := newCache(time.Hour, time.Second, DefaultCacheBytes, time.Now)
			ctx := context.Background()
			for i := range n {
				raw := fmt.Sprintf("kw_live_%022d_%s", i, strings.Repeat("s", 32))
				if _, err := c.get(ctx, raw[8:30], func(context.Context, string) (*APIKey, error) {
					return storeShapedKey(i), nil
				}); err != nil {
					b.Fatal(err)
				}
			}
			runtime.GC()
			before := gcMarkCPU()
			for b.Loop() {
				runtime.GC()
			}
			b.ReportMetric(float64((gcMarkCPU()-before).Microseconds())/float64(b.N), "mark-µs/GC")
			runtime.KeepAlive(c)
		})
	}
}
