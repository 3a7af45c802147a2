package postgres_test

import (
	"context"
	"testing"

	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/postgres"
	"github.com/keyward/keyward/store/postgres/pgtest"
	"github.com/keyward/keyward/store/storetest"
)

// openTest returns a migrated store in a fresh schema.
func openTest(t *testing.T) *postgres.DB {
	t.Helper()
	return openURL(t, pgtest.Schema(t))
}

func openURL(t testing.TB, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url, postgres.Config{MaxConns: 4})
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
			url := pgtest.Schema(t)
			return func() store.Store { return openURL(t, url) }
		})
}
