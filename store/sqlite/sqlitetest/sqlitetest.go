// Package sqlitetest opens the SQLite store for tests: a migrated
// database file in the test's temporary directory, closed when the test
// ends. It is test support: only _test.go files and other test-support
// packages import it.
package sqlitetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/keyward/keyward/store/sqlite"
)

// Open returns a migrated SQLite store in t.TempDir().
func Open(t testing.TB) *sqlite.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "keyward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}
