package keys

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestCacheBounded: however many distinct keys are verified, the cache
// holds at most its configured number of records, and a key in steady use
// survives a tour of keys used once (admission, not plain LRU).
func TestCacheBounded(t *testing.T) {
	const max = 100
	c := newCache(time.Minute, time.Second, max*slotBytes, time.Now)
	fetch := func(_ context.Context, id string) (*APIKey, error) { return &APIKey{ID: id}, nil }
	ctx := context.Background()
	for i := range 10 * max {
		for _, id := range []string{"hot", fmt.Sprintf("cold-%d", i)} {
			if _, err := c.get(ctx, id, fetch); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := c.len(); n > max {
		t.Fatalf("cache holds %d records, want at most %d", n, max)
	}
	if _, ok, _ := c.slab.get("hot", time.Now().UnixNano(), int64(time.Minute), c.scopes); !ok {
		t.Fatal("the frequently used key was evicted by a tour of keys used once")
	}
}
