package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
)

// testTokensBatch: ApplyTokenChanges applies a rotation (deactivate the
// used token, create its successors) all or none; a used token fails the
// batch with ErrConflict naming the change, and of concurrent rotations of
// one token exactly one wins.
func testTokensBatch(t *testing.T, s store.Store) {
	exp := time.Now().Add(time.Hour)
	at := store.Truncate(time.Now())
	exists := func(kind store.TokenKind, sig string) bool {
		_, err := s.GetToken(ctx(), kind, sig)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	wantChangeErr := func(err error, index int, sentinel error) {
		t.Helper()
		var ce *store.TokenChangeError
		if !errors.As(err, &ce) || ce.Index != index || !errors.Is(err, sentinel) {
			t.Fatalf("got %v, want a *TokenChangeError at %d matching %v", err, index, sentinel)
		}
	}
	rotate := func(old, next string) []store.TokenChange {
		return []store.TokenChange{
			{Kind: store.KindRefreshToken, Signature: old, Deactivate: true, At: at},
			{Create: sampleToken(store.KindAccessToken, "a-"+next, "req", exp)},
			{Create: sampleToken(store.KindRefreshToken, next, "req", exp)},
		}
	}
	if err := s.ApplyTokenChanges(ctx(), nil); err != nil {
		t.Fatalf("empty batch: %v", err)
	}
	if err := s.CreateToken(ctx(), sampleToken(store.KindRefreshToken, "r0", "req", exp)); err != nil {
		t.Fatal(err)
	}
	if err := s.ApplyTokenChanges(ctx(), rotate("r0", "r1")); err != nil {
		t.Fatal(err)
	}
	old, err := s.GetToken(ctx(), store.KindRefreshToken, "r0")
	if err != nil || old.Active || !old.InactiveAt.Equal(at) {
		t.Fatalf("rotated token: %+v %v", old, err)
	}
	if !exists(store.KindAccessToken, "a-r1") || !exists(store.KindRefreshToken, "r1") {
		t.Fatal("the rotation's new records are missing")
	}

	// A used token: nothing of the batch is applied.
	wantChangeErr(s.ApplyTokenChanges(ctx(), rotate("r0", "r2")), 0, store.ErrConflict)
	if exists(store.KindAccessToken, "a-r2") || exists(store.KindRefreshToken, "r2") {
		t.Fatal("a failed batch left records behind")
	}
	// A missing token; a taken signature.
	wantChangeErr(s.ApplyTokenChanges(ctx(), []store.TokenChange{
		{Create: sampleToken(store.KindAccessToken, "x", "req", exp)},
		{Kind: store.KindRefreshToken, Signature: "missing", Deactivate: true, At: at},
	}), 1, store.ErrNotFound)
	if exists(store.KindAccessToken, "x") {
		t.Fatal("a failed batch left a record behind")
	}
	wantChangeErr(s.ApplyTokenChanges(ctx(), []store.TokenChange{
		{Create: sampleToken(store.KindRefreshToken, "r1", "req", exp)},
	}), 0, store.ErrConflict)
	// Deleting a missing record is no error.
	if err := s.ApplyTokenChanges(ctx(), []store.TokenChange{
		{Kind: store.KindRefreshToken, Signature: "missing", Delete: true},
		{Kind: store.KindRefreshToken, Signature: "r1", Delete: true},
	}); err != nil {
		t.Fatal(err)
	}
	if exists(store.KindRefreshToken, "r1") {
		t.Fatal("delete did not delete")
	}

	// Concurrent rotations of one token: exactly one wins.
	if err := s.CreateToken(ctx(), sampleToken(store.KindRefreshToken, "race", "req", exp)); err != nil {
		t.Fatal(err)
	}
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = s.ApplyTokenChanges(ctx(), rotate("race", fmt.Sprintf("race-%d", i))) })
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
			if !exists(store.KindRefreshToken, fmt.Sprintf("race-%d", i)) {
				t.Errorf("the winner's records are missing")
			}
		case errors.Is(err, store.ErrConflict):
			if exists(store.KindRefreshToken, fmt.Sprintf("race-%d", i)) {
				t.Errorf("a loser's records were written")
			}
		default:
			t.Errorf("rotation %d: %v", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d concurrent rotations won, want 1", won)
	}
}
