package migrations

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/keyward/keyward/store/postgres/pgtest"
)

// TestUsageMovesToItsOwnTable: migration 00026 moves the usage counts
// that keys already had from api_keys into api_key_usage, on each engine,
// and leaves api_keys' own counts at zero, so a read that adds the two
// finds what was there before.
func TestUsageMovesToItsOwnTable(t *testing.T) {
	for _, tc := range []struct {
		engine Engine
		open   func(t *testing.T) *sql.DB
		now    string // a created_at / last_used_at value in the engine's form
	}{
		{SQLite, func(t *testing.T) *sql.DB {
			db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "keyward.db")+"?_pragma=foreign_keys(1)")
			if err != nil {
				t.Fatal(err)
			}
			return db
		}, "1700000000000000"},
		{Postgres, func(t *testing.T) *sql.DB {
			db, err := sql.Open("pgx", pgtest.Schema(t))
			if err != nil {
				t.Fatal(err)
			}
			return db
		}, "'2023-11-14T22:13:20Z'"},
	} {
		t.Run(string(tc.engine), func(t *testing.T) {
			ctx := context.Background()
			db := tc.open(t)
			defer db.Close()
			p, err := newProvider(tc.engine, db, options{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.UpTo(ctx, 25); err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{
				`INSERT INTO api_keys (id, env, name, hint, last_used_at, usage_count, created_at, updated_at)
					VALUES ('used', 'live', 'a', 'h', ` + tc.now + `, 7, ` + tc.now + `, ` + tc.now + `)`,
				`INSERT INTO api_keys (id, env, name, hint, created_at, updated_at)
					VALUES ('unused', 'live', 'b', 'h', ` + tc.now + `, ` + tc.now + `)`,
			} {
				if _, err := db.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := p.Up(ctx); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := db.QueryRowContext(ctx, `SELECT count(*) FROM api_key_usage`).Scan(&n); err != nil || n != 1 {
				t.Fatalf("usage rows: %d, %v; want 1 (the unused key has none)", n, err)
			}
			var count int64
			var moved, left bool
			err = db.QueryRowContext(ctx, `SELECT u.usage_count, u.last_used_at = k.created_at, k.usage_count = 0 AND k.last_used_at IS NULL
				FROM api_key_usage u JOIN api_keys k ON k.id = u.key_id WHERE u.key_id = 'used'`).Scan(&count, &moved, &left)
			if err != nil || count != 7 || !moved || !left {
				t.Fatalf("moved: count %d, last use kept %v, api_keys zeroed %v, err %v", count, moved, left, err)
			}
			if _, err := db.ExecContext(ctx, `DELETE FROM api_keys WHERE id = 'used'`); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRowContext(ctx, `SELECT count(*) FROM api_key_usage`).Scan(&n); err != nil || n != 0 {
				t.Fatalf("usage rows after the key's deletion: %d, %v; want 0", n, err)
			}
		})
	}
}
