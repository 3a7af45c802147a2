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

// testTokensBatchCreates: a batch of creates alone (what a group commit
// of token endpoints sends) is all or none as well: a taken signature at
// its end leaves none of the records before it; one that succeeds stores
// every record as given.
func testTokensBatchCreates(t *testing.T, s store.Store) {
	exp := time.Now().Add(time.Hour)
	if err := s.CreateToken(ctx(), sampleToken(store.KindAccessToken, "taken", "req-0", exp)); err != nil {
		t.Fatal(err)
	}
	creates := func(sigs ...string) []store.TokenChange {
		out := make([]store.TokenChange, len(sigs))
		for i, sig := range sigs {
			out[i] = store.TokenChange{Create: sampleToken(store.KindAccessToken, sig, "req-"+sig, exp)}
		}
		return out
	}
	err := s.ApplyTokenChanges(ctx(), creates("c1", "c2", "taken"))
	var ce *store.TokenChangeError
	if !errors.As(err, &ce) || ce.Index != 2 || !errors.Is(err, store.ErrConflict) {
		t.Fatalf("got %v, want a *TokenChangeError at 2 matching ErrConflict", err)
	}
	for _, sig := range []string{"c1", "c2"} {
		if _, err := s.GetToken(ctx(), store.KindAccessToken, sig); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s after a failed batch of creates: %v, want ErrNotFound", sig, err)
		}
	}
	// A signature twice in one batch: the second is the conflict.
	err = s.ApplyTokenChanges(ctx(), creates("d1", "d2", "d1"))
	if !errors.As(err, &ce) || ce.Index != 2 || !errors.Is(err, store.ErrConflict) {
		t.Fatalf("got %v, want a *TokenChangeError at 2 matching ErrConflict", err)
	}
	if err := s.ApplyTokenChanges(ctx(), creates("e1", "e2", "e3")); err != nil {
		t.Fatal(err)
	}
	for _, sig := range []string{"e1", "e2", "e3"} {
		got, err := s.GetToken(ctx(), store.KindAccessToken, sig)
		if err != nil || got.RequestID != "req-"+sig || !got.Active || string(got.Data) != `{"scopes":["openid"]}` {
			t.Fatalf("%s: %+v %v", sig, got, err)
		}
	}
}

// testTokensGroupCommit: store.CreateTokens answers each record as
// CreateToken would have alone: the records whose signature is taken
// (by a stored record or by an earlier one of the same call) get
// ErrConflict, and every other record is stored.
func testTokensGroupCommit(t *testing.T, s store.Store) {
	exp := time.Now().Add(time.Hour)
	for _, sig := range []string{"gc-taken-1", "gc-taken-2"} {
		if err := s.CreateToken(ctx(), sampleToken(store.KindAccessToken, sig, "stored", exp)); err != nil {
			t.Fatal(err)
		}
	}
	sigs := []string{"gc-1", "gc-taken-1", "gc-2", "gc-taken-2", "gc-1", "gc-3"}
	recs := make([]*store.TokenRecord, len(sigs))
	for i, sig := range sigs {
		recs[i] = sampleToken(store.KindAccessToken, sig, fmt.Sprintf("req-%d", i), exp)
	}
	errs := store.CreateTokens(ctx(), s, recs)
	if len(errs) != len(recs) {
		t.Fatalf("%d outcomes for %d records", len(errs), len(recs))
	}
	for i, err := range errs {
		conflict := i == 1 || i == 3 || i == 4
		if conflict != errors.Is(err, store.ErrConflict) || (!conflict && err != nil) {
			t.Errorf("record %d (%s): %v", i, sigs[i], err)
		}
	}
	for i, sig := range sigs {
		got, err := s.GetToken(ctx(), store.KindAccessToken, sig)
		if err != nil {
			t.Fatalf("%s: %v", sig, err)
		}
		// A conflicting record changed nothing: the stored one stays.
		want := fmt.Sprintf("req-%d", i)
		switch i {
		case 1, 3:
			want = "stored"
		case 4:
			want = "req-0"
		}
		if got.RequestID != want {
			t.Errorf("%s holds request %q, want %q", sig, got.RequestID, want)
		}
	}
	if errs := store.CreateTokens(ctx(), s, nil); len(errs) != 0 {
		t.Fatalf("no records: %v", errs)
	}
}
