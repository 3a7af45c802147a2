package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/postgres/pgtest"
)

// TestMapErrUnavailable: real driver failures of an unreachable or
// unresponsive server map to store.ErrUnavailable; errors about the
// statement or the data do not.
func TestMapErrUnavailable(t *testing.T) {
	url := pgtest.Schema(t)
	ctx := context.Background()
	conn := func(t *testing.T) *pgx.Conn {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(context.Background()) })
		return c
	}

	t.Run("connection refused", func(t *testing.T) {
		_, err := pgx.Connect(ctx, "postgres://nobody@127.0.0.1:1/x?connect_timeout=2")
		wantUnavailable(t, err)
	})
	t.Run("deadline", func(t *testing.T) {
		dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := conn(t).Exec(dctx, "SELECT pg_sleep(2)")
		wantUnavailable(t, err)
	})
	t.Run("terminated backend", func(t *testing.T) {
		victim, killer := conn(t), conn(t)
		pid := victim.PgConn().PID()
		if _, err := killer.Exec(ctx, "SELECT pg_terminate_backend($1)", pid); err != nil {
			t.Fatal(err)
		}
		var err error
		for range 50 { // the termination reaches the victim asynchronously
			if _, err = victim.Exec(ctx, "SELECT 1"); err != nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		wantUnavailable(t, err)
		_, err = victim.Exec(ctx, "SELECT 1") // the connection is closed now
		wantUnavailable(t, err)
	})
	t.Run("closed pool", func(t *testing.T) {
		db, err := Open(ctx, url, Config{MaxConns: 2})
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
		_, err = db.GetClient(ctx, "c1")
		wantUnavailable(t, err)
	})
	t.Run("statement errors are not outages", func(t *testing.T) {
		_, err := conn(t).Exec(ctx, "SELEKT 1")
		if err == nil || errors.Is(mapErr(err), store.ErrUnavailable) {
			t.Fatalf("syntax error mapped to %v", mapErr(err))
		}
		if err := mapErr(pgx.ErrNoRows); err != store.ErrNotFound {
			t.Fatalf("no rows mapped to %v", err)
		}
	})
}

func wantUnavailable(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	if got := mapErr(err); !errors.Is(got, store.ErrUnavailable) {
		t.Fatalf("mapErr(%v) = %v, want store.ErrUnavailable", err, got)
	}
}
