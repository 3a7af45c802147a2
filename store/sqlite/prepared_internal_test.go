package sqlite

import (
	"context"
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
	d, err := Open(ctx, filepath.Join(t.TempDir(), "keyward.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
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
	if n := len(d.prepared.stmts); n != 8 {
		t.Errorf("%d statements prepared for batches of 1 to 128 keys, want 8", n)
	}
	err = d.InTx(ctx, func(ctx context.Context) error {
		got, err := count(ctx, sigs[:3])
		if err == nil && got != 2 {
			err = fmt.Errorf("found %d records, want 2", got)
		}
		return err
	})
	if err != nil {
		t.Fatalf("in a transaction: %v", err)
	}
	d.Close()
	if _, err := count(ctx, sigs[:3]); err == nil {
		t.Error("ReadTokens read a closed database")
	}
	if n := len(d.prepared.stmts); n != 0 {
		t.Errorf("%d statements left after Close", n)
	}
}
