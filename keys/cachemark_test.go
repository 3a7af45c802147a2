package keys

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/keys/heaptest"
)

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
			before := heaptest.MarkCPU()
			for b.Loop() {
				runtime.GC()
			}
			b.ReportMetric(float64((heaptest.MarkCPU()-before).Microseconds())/float64(b.N), "mark-µs/GC")
			runtime.KeepAlive(c)
		})
	}
}
