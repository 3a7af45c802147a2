package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
)

// RunSigningKeys runs the signing.Store suite against one engine; open
// returns a fresh, empty, migrated store.
func RunSigningKeys(t *testing.T, open func(t *testing.T) signing.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s signing.Store)
	}{
		{"Empty", testSigningEmpty},
		{"InsertUpdate", testSigningInsertUpdate},
		{"OnlyOwnAlgorithm", testSigningOwnAlg},
		{"FnErrorWritesNothing", testSigningFnError},
		{"OneActivePerAlgorithm", testSigningOneActive},
		{"DuplicateKID", testSigningDuplicateKID},
		{"FailedWriteRollsBack", testSigningRollback},
		{"CancelledMidTransition", testSigningCancelled},
		{"ConcurrentTransitions", testSigningConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

var signingT0 = time.Date(2030, 1, 2, 3, 4, 5, 123456000, time.UTC)

func signingRec(kid, alg string, st signing.State, created time.Time) *signing.Record {
	return &signing.Record{KID: kid, Alg: alg, State: st, Origin: signing.OriginGenerated,
		Sealed: []byte("sealed-" + kid), CreatedAt: created}
}

// insert writes recs in one transition of alg.
func insertSigning(t *testing.T, s signing.Store, alg string, recs ...*signing.Record) {
	t.Helper()
	err := s.UpdateSigningKeys(ctx(), alg, func([]*signing.Record) ([]*signing.Record, error) { return recs, nil })
	if err != nil {
		t.Fatalf("insert: %v", err)
	}
}

func kids(recs []*signing.Record) []string {
	out := []string{}
	for _, r := range recs {
		out = append(out, r.KID+":"+string(r.State))
	}
	return out
}

func testSigningEmpty(t *testing.T, s signing.Store) {
	if got, err := s.SigningKeys(ctx()); err != nil || len(got) != 0 {
		t.Fatalf("SigningKeys = %v, %v; want none", got, err)
	}
	if _, err := s.SigningKey(ctx(), "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SigningKey(unknown) = %v; want ErrNotFound", err)
	}
}

func testSigningInsertUpdate(t *testing.T, s signing.Store) {
	active := signingRec("a1", "ES256", signing.StateActive, signingT0)
	active.ActivatedAt = signingT0.Add(time.Second)
	next := signingRec("n1", "ES256", signing.StateNext, signingT0.Add(time.Minute))
	next.Origin = signing.OriginImported
	insertSigning(t, s, "ES256", active, next)

	got, err := s.SigningKeys(ctx())
	if err != nil {
		t.Fatal(err)
	}
	if want := []*signing.Record{active, next}; !reflect.DeepEqual(got, want) {
		t.Fatalf("SigningKeys:\n got %+v\nwant %+v", got, want)
	}

	// A rotation: active → retiring, next → active.
	err = s.UpdateSigningKeys(ctx(), "ES256", func(cur []*signing.Record) ([]*signing.Record, error) {
		if !reflect.DeepEqual(cur, []*signing.Record{active, next}) {
			return nil, fmt.Errorf("fn got %v", kids(cur))
		}
		a, n := cur[0], cur[1]
		a.State, a.RetiringAt, a.RetireAfter = signing.StateRetiring, signingT0.Add(time.Hour), signingT0.Add(25*time.Hour)
		n.State, n.ActivatedAt = signing.StateActive, signingT0.Add(time.Hour)
		return []*signing.Record{a, n}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.SigningKey(ctx(), "a1")
	if err != nil {
		t.Fatal(err)
	}
	want := *active
	want.State, want.RetiringAt, want.RetireAfter = signing.StateRetiring, signingT0.Add(time.Hour), signingT0.Add(25*time.Hour)
	if !reflect.DeepEqual(a, &want) {
		t.Fatalf("after update:\n got %+v\nwant %+v", a, &want)
	}
	a.State, a.RetiredAt, a.RevokedAt = signing.StateRetired, signingT0.Add(26*time.Hour), signingT0.Add(26*time.Hour)
	insertSigning(t, s, "ES256", a) // an update: a1 exists
	got2, _ := s.SigningKey(ctx(), "a1")
	if !reflect.DeepEqual(got2, a) {
		t.Fatalf("after retire:\n got %+v\nwant %+v", got2, a)
	}
}

func testSigningOwnAlg(t *testing.T, s signing.Store) {
	insertSigning(t, s, "ES256", signingRec("e1", "ES256", signing.StateActive, signingT0))
	insertSigning(t, s, "RS256", signingRec("r1", "RS256", signing.StateActive, signingT0.Add(time.Second)))
	var seen []string
	err := s.UpdateSigningKeys(ctx(), "RS256", func(cur []*signing.Record) ([]*signing.Record, error) {
		seen = kids(cur)
		return nil, nil
	})
	if err != nil || !reflect.DeepEqual(seen, []string{"r1:active"}) {
		t.Fatalf("fn saw %v (%v); want only r1", seen, err)
	}
	err = s.UpdateSigningKeys(ctx(), "RS256", func([]*signing.Record) ([]*signing.Record, error) {
		return []*signing.Record{signingRec("x", "ES256", signing.StateRetired, signingT0)}, nil
	})
	if err == nil {
		t.Fatal("writing an ES256 key in an RS256 transition succeeded")
	}
}

func testSigningFnError(t *testing.T, s signing.Store) {
	boom := errors.New("boom")
	err := s.UpdateSigningKeys(ctx(), "ES256", func([]*signing.Record) ([]*signing.Record, error) {
		return []*signing.Record{signingRec("a", "ES256", signing.StateActive, signingT0)}, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v; want fn's error", err)
	}
	if got, _ := s.SigningKeys(ctx()); len(got) != 0 {
		t.Fatalf("written despite the error: %v", kids(got))
	}
}

func testSigningOneActive(t *testing.T, s signing.Store) {
	insertSigning(t, s, "ES256", signingRec("a1", "ES256", signing.StateActive, signingT0),
		signingRec("n1", "ES256", signing.StateNext, signingT0))
	insertSigning(t, s, "EdDSA", signingRec("e1", "EdDSA", signing.StateActive, signingT0.Add(time.Second))) // other alg: fine
	for _, st := range []signing.State{signing.StateActive, signing.StateNext} {
		err := s.UpdateSigningKeys(ctx(), "ES256", func([]*signing.Record) ([]*signing.Record, error) {
			return []*signing.Record{signingRec("x-"+string(st), "ES256", st, signingT0)}, nil
		})
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("second %s key: err = %v; want ErrConflict", st, err)
		}
	}
	// Promoting a next key without demoting the active one is refused too.
	err := s.UpdateSigningKeys(ctx(), "ES256", func(cur []*signing.Record) ([]*signing.Record, error) {
		for _, k := range cur {
			if k.KID == "n1" {
				k.State = signing.StateActive
				return []*signing.Record{k}, nil
			}
		}
		return nil, errors.New("n1 missing")
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("promotion beside an active key: err = %v; want ErrConflict", err)
	}
	got, _ := s.SigningKeys(ctx())
	if want := []string{"a1:active", "n1:next", "e1:active"}; !reflect.DeepEqual(kids(got), want) {
		t.Fatalf("keys = %v; want %v", kids(got), want)
	}
}

func testSigningDuplicateKID(t *testing.T, s signing.Store) {
	insertSigning(t, s, "ES256", signingRec("k", "ES256", signing.StateRetired, signingT0))
	err := s.UpdateSigningKeys(ctx(), "RS256", func([]*signing.Record) ([]*signing.Record, error) {
		return []*signing.Record{signingRec("k", "RS256", signing.StateRetired, signingT0)}, nil
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate kid: err = %v; want ErrConflict", err)
	}
}

// testSigningRollback: the second write fails, so the first must not stay.
func testSigningRollback(t *testing.T, s signing.Store) {
	insertSigning(t, s, "ES256", signingRec("a1", "ES256", signing.StateActive, signingT0),
		signingRec("n1", "ES256", signing.StateNext, signingT0))
	err := s.UpdateSigningKeys(ctx(), "ES256", func(cur []*signing.Record) ([]*signing.Record, error) {
		a := cur[0]
		a.State = signing.StateRetiring
		return []*signing.Record{a, signingRec("n2", "ES256", signing.StateNext, signingT0)}, nil
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("err = %v; want ErrConflict", err)
	}
	got, _ := s.SigningKeys(ctx())
	if want := []string{"a1:active", "n1:next"}; !reflect.DeepEqual(kids(got), want) {
		t.Fatalf("after a failed transition keys = %v; want %v", kids(got), want)
	}
}

// testSigningCancelled kills a transition inside its transaction, as a
// process dying mid-rotation would: nothing is written, and the store
// keeps working.
func testSigningCancelled(t *testing.T, s signing.Store) {
	insertSigning(t, s, "ES256", signingRec("a1", "ES256", signing.StateActive, signingT0),
		signingRec("n1", "ES256", signing.StateNext, signingT0))
	c, cancel := context.WithCancel(ctx())
	err := s.UpdateSigningKeys(c, "ES256", func(cur []*signing.Record) ([]*signing.Record, error) {
		a, n := cur[0], cur[1]
		a.State, n.State = signing.StateRetiring, signing.StateActive
		cancel()
		return []*signing.Record{a, n, signingRec("n2", "ES256", signing.StateNext, signingT0)}, nil
	})
	if err == nil {
		t.Fatal("a transition whose context was cancelled committed")
	}
	got, err := s.SigningKeys(ctx())
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a1:active", "n1:next"}; !reflect.DeepEqual(kids(got), want) {
		t.Fatalf("after a killed transition keys = %v; want %v", kids(got), want)
	}
	insertSigning(t, s, "ES256", signingRec("r1", "ES256", signing.StateRetired, signingT0))
}

// testSigningConcurrent runs read-modify-write transitions at once, from
// an empty table (nothing to lock row-wise): each must see every earlier
// one, or two would insert the same kid.
func testSigningConcurrent(t *testing.T, s signing.Store) {
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.UpdateSigningKeys(ctx(), "ES256", func(cur []*signing.Record) ([]*signing.Record, error) {
				k := signingRec(fmt.Sprintf("k%02d", len(cur)), "ES256", signing.StateRetired, signingT0.Add(time.Duration(len(cur))*time.Second))
				return []*signing.Record{k}, nil
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent transition: %v", err)
		}
	}
	if got, _ := s.SigningKeys(ctx()); len(got) != n {
		t.Fatalf("%d keys after %d transitions: %v", len(got), n, kids(got))
	}
}
