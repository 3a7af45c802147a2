package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/keyward/keyward/store"
)

// TestMapErrBusy: a write that still finds the database locked when its
// busy timeout runs out is store.ErrUnavailable (the answer is unknown,
// not negative); a statement error is not.
func TestMapErrBusy(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "busy.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	holder, err := db.SQL().BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback()

	impatient, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(20)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer impatient.Close()
	_, err = impatient.ExecContext(ctx, `INSERT INTO revoked_jtis (jti, expires_at) VALUES ('x', 0)`)
	if err == nil {
		t.Fatal("a write under another's write lock succeeded")
	}
	if got := mapErr(err); !errors.Is(got, store.ErrUnavailable) {
		t.Fatalf("mapErr(%v) = %v, want store.ErrUnavailable", err, got)
	}

	_, err = impatient.ExecContext(ctx, "SELEKT 1")
	if err == nil || errors.Is(mapErr(err), store.ErrUnavailable) {
		t.Fatalf("syntax error mapped to %v", mapErr(err))
	}
}
