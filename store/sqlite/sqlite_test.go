package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/sqlite"
	"github.com/keyward/keyward/store/storetest"
)

// openTest returns a migrated store on a new file under t.TempDir().
func openTest(t *testing.T) *sqlite.DB {
	t.Helper()
	return openPath(t, filepath.Join(t.TempDir(), "keyward.db"))
}

func openPath(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t,
		func(t *testing.T) store.Store { return openTest(t) },
		func(t *testing.T) func() store.Store {
			path := filepath.Join(t.TempDir(), "keyward.db")
			return func() store.Store { return openPath(t, path) }
		})
}

// TestPageCacheBounded: every connection's page cache is bounded at
// 512 KiB (memory outside the Go heap and its limit).
func TestPageCacheBounded(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	conns := make([]*sql.Conn, 3) // held at once: three connections of the pool
	for i := range conns {
		c, err := db.SQL().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	for i, c := range conns {
		var kib int
		if err := c.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&kib); err != nil {
			t.Fatal(err)
		}
		if kib != -512 {
			t.Errorf("connection %d: cache_size %d, want -512 (KiB)", i, kib)
		}
	}
}
