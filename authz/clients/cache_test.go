package clients

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/sqlite"
)

// countingClients counts the client reads that reach the real store.
type countingClients struct {
	store.ClientStore
	reads atomic.Int64
}

func (c *countingClients) GetClient(ctx context.Context, id string) (*store.Client, error) {
	c.reads.Add(1)
	return c.ClientStore.GetClient(ctx, id)
}

// TestClientCacheDropStale: a failed authentication re-reads a known
// client at most once per RefreshAge, and never an unknown one, so
// repeated failures do not become a database read each.
func TestClientCacheDropStale(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateClient(ctx, &store.Client{ID: "known", Name: "known", SecretDigest: []byte("d")}); err != nil {
		t.Fatal(err)
	}
	cs := &countingClients{ClientStore: db}
	clock := time.Unix(1_700_000_000, 0)
	c := NewCache(cs, func() time.Time { return clock })

	if _, err := c.Get(ctx, "unknown"); err == nil {
		t.Fatal("unknown client found")
	}
	if c.DropStale("unknown") {
		t.Error("an unknown (negatively cached) id was dropped")
	}
	if _, err := c.Get(ctx, "known"); err != nil {
		t.Fatal(err)
	}
	if !c.DropStale("known") {
		t.Fatal("the first failure did not re-read the client")
	}
	if _, err := c.Get(ctx, "known"); err != nil {
		t.Fatal(err)
	}
	if c.DropStale("known") {
		t.Error("a second failure within RefreshAge re-read the client")
	}
	clock = clock.Add(RefreshAge)
	if !c.DropStale("known") {
		t.Error("a failure after RefreshAge did not re-read the client")
	}
	if n := cs.reads.Load(); n != 3 {
		t.Errorf("%d store reads; want 3: the unknown id once, the known client twice", n)
	}
}
