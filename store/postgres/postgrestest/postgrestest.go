// Package postgrestest opens the PostgreSQL store for tests, each on a
// schema of its own (pgtest.Schema): the PostgreSQL twin of sqlitetest.
// It is a package apart from pgtest because the store's own internal
// tests use pgtest, which therefore cannot import the store.
package postgrestest

import (
	"context"
	"testing"

	"github.com/keyward/keyward/store/postgres"
	"github.com/keyward/keyward/store/postgres/pgtest"
)

// Open returns a migrated PostgreSQL store on a fresh schema, closed when
// the test ends. An unreachable server skips the test, or fails it with
// CI=true (pgtest).
func Open(t testing.TB) *postgres.DB {
	t.Helper()
	ctx := context.Background()
	db, err := postgres.Open(ctx, pgtest.Schema(t), postgres.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}
