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

// testTokensGroupCommit: store.ApplyTokenChangeSets answers each set as
// ApplyTokenChanges would have alone: a set whose own change fails (a
// signature taken by a stored record or by an earlier set of the same
// call, a refresh token already rotated, by another set too, a record to
// deactivate missing) gets that change's *TokenChangeError, indexed
// within the set, with nothing of it applied; every other set is applied
// whole.
func testTokensGroupCommit(t *testing.T, s store.Store) {
	exp := time.Now().Add(time.Hour)
	at := store.Truncate(time.Now())
	for _, sig := range []string{"gc-taken-1", "gc-taken-2"} {
		if err := s.CreateToken(ctx(), sampleToken(store.KindAccessToken, sig, "stored", exp)); err != nil {
			t.Fatal(err)
		}
	}
	for _, sig := range []string{"gc-r1", "gc-r2"} {
		if err := s.CreateToken(ctx(), sampleToken(store.KindRefreshToken, sig, "grant-"+sig, exp)); err != nil {
			t.Fatal(err)
		}
	}
	create := func(sig, req string) []store.TokenChange {
		return []store.TokenChange{{Create: sampleToken(store.KindAccessToken, sig, req, exp)}}
	}
	rotate := func(old, next string) []store.TokenChange {
		return []store.TokenChange{
			{Kind: store.KindRefreshToken, Signature: old, Deactivate: true, At: at},
			{Create: sampleToken(store.KindAccessToken, "a-"+next, "grant-"+old, exp)},
			{Create: sampleToken(store.KindRefreshToken, next, "grant-"+old, exp)},
		}
	}
	sets := [][]store.TokenChange{
		0: create("gc-1", "req-0"),
		1: create("gc-taken-1", "req-1"), // taken by a stored record
		2: rotate("gc-r1", "gc-r1-next"),
		3: create("gc-2", "req-3"),
		4: rotate("gc-r1", "gc-r1-again"), // rotated by set 2
		5: create("gc-taken-2", "req-5"),
		6: create("gc-1", "req-6"), // taken by set 0
		7: rotate("gc-missing", "gc-m-next"),
		8: nil,
		9: rotate("gc-r2", "gc-r2-next"),
	}
	errs := store.ApplyTokenChangeSets(ctx(), s, sets)
	if len(errs) != len(sets) {
		t.Fatalf("%d outcomes for %d sets", len(errs), len(sets))
	}
	want := map[int]error{1: store.ErrConflict, 4: store.ErrConflict, 5: store.ErrConflict, 6: store.ErrConflict,
		7: store.ErrNotFound}
	wantIndex := map[int]int{1: 0, 4: 0, 5: 0, 6: 0, 7: 0}
	for i, err := range errs {
		var ce *store.TokenChangeError
		switch {
		case want[i] == nil && err != nil:
			t.Errorf("set %d: %v", i, err)
		case want[i] != nil && (!errors.As(err, &ce) || ce.Index != wantIndex[i] || !errors.Is(err, want[i])):
			t.Errorf("set %d: %v, want a *TokenChangeError at %d matching %v", i, err, wantIndex[i], want[i])
		}
	}
	get := func(kind store.TokenKind, sig string) *store.TokenRecord {
		t.Helper()
		r, err := s.GetToken(ctx(), kind, sig)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for sig, req := range map[string]string{"gc-1": "req-0", "gc-2": "req-3", "gc-taken-1": "stored",
		"gc-taken-2": "stored", "a-gc-r1-next": "grant-gc-r1", "a-gc-r2-next": "grant-gc-r2"} {
		if r := get(store.KindAccessToken, sig); r == nil || r.RequestID != req {
			t.Errorf("%s: %+v, want request %q", sig, r, req)
		}
	}
	for _, sig := range []string{"a-gc-r1-again", "a-gc-m-next"} {
		if get(store.KindAccessToken, sig) != nil {
			t.Errorf("%s: written by a failed set", sig)
		}
	}
	for sig, active := range map[string]bool{"gc-r1": false, "gc-r2": false, "gc-r1-next": true, "gc-r2-next": true} {
		if r := get(store.KindRefreshToken, sig); r == nil || r.Active != active {
			t.Errorf("refresh %s: %+v, want active %v", sig, r, active)
		}
	}
	for _, sig := range []string{"gc-r1-again", "gc-m-next"} {
		if get(store.KindRefreshToken, sig) != nil {
			t.Errorf("refresh %s: written by a failed set", sig)
		}
	}
	if errs := store.ApplyTokenChangeSets(ctx(), s, nil); len(errs) != 0 {
		t.Fatalf("no sets: %v", errs)
	}
}
