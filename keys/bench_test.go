package keys

import (
	"context"
	"testing"
	"time"
)

func benchFixture(b *testing.B, rl RateLimit) (*fixture, string) {
	f := newFixture(b, nil)
	_, raw := f.create(b, CreateParams{Scopes: []string{"read", "write"}, RateLimit: rl})
	f.verify(b, raw, "read") // warm the cache
	return f, raw
}

// BenchmarkVerifyCached measures a verification served from the cache and
// fails if it reaches the store.
func BenchmarkVerifyCached(b *testing.B) {
	for _, bc := range []struct {
		name string
		rl   RateLimit
	}{{"Unlimited", RateLimit{}}, {"RateLimited", RateLimit{Limit: 1 << 30, Period: time.Hour}}} {
		b.Run(bc.name, func(b *testing.B) {
			f, raw := benchFixture(b, bc.rl)
			ctx := context.Background()
			before := f.store.calls.Load()
			b.ReportAllocs()
			for b.Loop() {
				if r, _ := f.svc.Verify(ctx, raw, "read"); !r.Valid {
					b.Fatal(r.Code)
				}
			}
			if n := f.store.calls.Load() - before; n != 0 {
				b.Fatalf("%d store calls", n)
			}
		})
	}
}

func BenchmarkVerifyCachedParallel(b *testing.B) {
	f, raw := benchFixture(b, RateLimit{})
	ctx := context.Background()
	before := f.store.calls.Load()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r, _ := f.svc.Verify(ctx, raw, "read"); !r.Valid {
				b.Error(r.Code)
				return
			}
		}
	})
	if n := f.store.calls.Load() - before; n != 0 {
		b.Fatalf("%d store calls", n)
	}
}

func BenchmarkVerifyMalformed(b *testing.B) {
	f, raw := benchFixture(b, RateLimit{})
	bad := raw[:KeyLen-1] + "!"
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		f.svc.Verify(ctx, bad, "")
	}
}
