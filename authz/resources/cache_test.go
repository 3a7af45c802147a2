package resources

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
)

// flakyLister is the real store with lists that fail while down is set.
type flakyLister struct {
	Lister
	down  atomic.Bool
	lists atomic.Int64
}

func (f *flakyLister) ListResources(ctx context.Context, p store.Page) ([]*store.Resource, string, error) {
	f.lists.Add(1)
	if f.down.Load() {
		return nil, "", errors.New("database is down")
	}
	return f.Lister.ListResources(ctx, p)
}

func TestCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg, db, _ := newTestRegistry(t)
	clock := time.Unix(1_700_000_000, 0)
	l := &flakyLister{Lister: db}
	c := NewCache(l, func() time.Time { return clock })

	set, err := c.Current(ctx)
	if err != nil || len(set.URIs()) != 0 {
		t.Fatalf("empty store: %v, %v", set.URIs(), err)
	}
	a, _ := reg.Create(ctx, Params{URI: "https://a.example"})
	if set, _ := c.Current(ctx); len(set.URIs()) != 0 || l.lists.Load() != 1 {
		t.Fatal("a fresh snapshot was reloaded")
	}
	c.Invalidate()
	set, err = c.Current(ctx)
	if _, ok := set.Lookup(a.URI); err != nil || !ok {
		t.Fatalf("after Invalidate: %v, %v", set.URIs(), err)
	}
	// Over one page: every resource is loaded.
	for i := range store.MaxPageLimit + 1 {
		if _, err := reg.Create(ctx, Params{URI: "urn:r:" + string(rune('a'+i%26)) + time.Duration(i).String()}); err != nil {
			t.Fatal(err)
		}
	}
	clock = clock.Add(CacheTTL)
	if set, err = c.Current(ctx); err != nil || len(set.URIs()) != store.MaxPageLimit+2 {
		t.Fatalf("after TTL: %d URIs, %v", len(set.URIs()), err)
	}

	// An outage: what the last snapshot holds is still known; the error
	// says the rest is unknown, not absent. Reloads are not retried on
	// every call.
	l.down.Store(true)
	c.Invalidate()
	set, err = c.Current(ctx)
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("during an outage: %v, want ErrUnavailable", err)
	}
	if _, ok := set.Lookup(a.URI); !ok {
		t.Fatal("the outage lost a known resource")
	}
	before := l.lists.Load()
	if _, err := c.Current(ctx); !errors.Is(err, store.ErrUnavailable) || l.lists.Load() != before {
		t.Fatalf("second call during an outage: %v, %d reads", err, l.lists.Load()-before)
	}
	l.down.Store(false)
	clock = clock.Add(3 * time.Second)
	if _, err := c.Current(ctx); err != nil {
		t.Fatalf("after the outage: %v", err)
	}
}

func TestCacheNeverLoaded(t *testing.T) {
	t.Parallel()
	l := &flakyLister{Lister: newDB(t)}
	l.down.Store(true)
	c := NewCache(l, time.Now)
	set, err := c.Current(context.Background())
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("%v, want ErrUnavailable", err)
	}
	if _, ok := set.Lookup("https://a.example"); ok {
		t.Fatal("nil set found something")
	}
}
