package sqlite_test

import (
	"context"
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

func openPath(t *testing.T, path string) *sqlite.DB {
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
