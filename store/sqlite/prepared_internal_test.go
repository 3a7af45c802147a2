package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/keyward/keyward/store"
)

// TestBatchedReadsPrepared: batched reads of every length from 1 to 128
// keep one prepared statement a shape, inside a transaction they read
// too, and after Close they fail as the closed database does (no panic,
// no statement prepared again).
func TestBatchedReadsPrepared(t *testing.T) {
	ctx := context.Background()
	d := openMigrated(t)
	sigs := make([]string, 128)
	for i := range sigs {
		sigs[i] = fmt.Sprint("s", i)
		if i%2 == 0 {
			if err := d.CreateToken(ctx, &store.TokenRecord{Kind: store.KindAccessToken, Signature: sigs[i],
				RequestID: "r", ClientID: "c", Active: true, Data: []byte("{}"), RequestedAt: d.now(),
				ExpiresAt: d.now()}); err != nil {
				t.Fatal(err)
			}
		}
	}
	count := func(ctx context.Context, sigs []string) (int, error) {
		n := 0
		err := d.ReadTokens(ctx, store.KindAccessToken, sigs, func([]byte, bool, []byte) error { n++; return nil })
		return n, err
	}
	for n := 1; n <= len(sigs); n++ {
		got, err := count(ctx, sigs[:n])
		if err != nil {
			t.Fatal(err)
		}
		if got != (n+1)/2 {
			t.Fatalf("ReadTokens(%d signatures) found %d records, want %d", n, got, (n+1)/2)
		}
	}
	if n := len(d.prepared.stmts); n != 8+1 {
		t.Errorf("%d statements prepared for batches of 1 to 128 keys and the insert, want 9", n)
	}
	err := d.InTx(ctx, func(ctx context.Context) error {
		got, err := count(ctx, sigs[:3])
		if err == nil && got != 2 {
			err = fmt.Errorf("found %d records, want 2", got)
		}
		return err
	})
	if err != nil {
		t.Fatalf("in a transaction: %v", err)
	}
	// The prepared insert inside a transaction, and in a savepoint of
	// one: rolled back with it.
	rec := func(sig string) *store.TokenRecord {
		return &store.TokenRecord{Kind: store.KindAccessToken, Signature: sig, RequestID: "r", ClientID: "c",
			Active: true, Data: []byte("{}"), RequestedAt: d.now(), ExpiresAt: d.now()}
	}
	err = d.InTx(ctx, func(ctx context.Context) error {
		if err := d.ApplyTokenChanges(ctx, []store.TokenChange{{Create: rec("tx-1")}}); err != nil {
			return err
		}
		return d.CreateToken(ctx, rec("tx-2"))
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = d.InTx(ctx, func(ctx context.Context) error {
		if err := d.ApplyTokenChanges(ctx, []store.TokenChange{{Create: rec("rolled-back")}}); err != nil {
			return err
		}
		return errors.New("roll back")
	})
	if got, err := count(ctx, []string{"tx-1", "tx-2", "rolled-back"}); err != nil || got != 2 {
		t.Fatalf("after the transactions: %d records (%v), want 2", got, err)
	}
	d.Close()
	if _, err := count(ctx, sigs[:3]); err == nil {
		t.Error("ReadTokens read a closed database")
	}
	if err := d.CreateToken(ctx, rec("closed")); err == nil {
		t.Error("CreateToken wrote to a closed database")
	}
	if err := d.ApplyTokenChanges(ctx, []store.TokenChange{{Create: rec("closed")}}); err == nil {
		t.Error("ApplyTokenChanges wrote to a closed database")
	}
	if n := len(d.prepared.stmts); n != 0 {
		t.Errorf("%d statements left after Close", n)
	}
}

// openMigrated opens a migrated store in a file of the test's own, closed
// when the test ends (the internal tests' sqlitetest.Open, which they
// cannot import).
func openMigrated(t *testing.T) *DB {
	t.Helper()
	d, err := Open(context.Background(), filepath.Join(t.TempDir(), "keyward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if err := d.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d
}
