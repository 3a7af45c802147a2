package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
)

// testAssertionJTIs: a client assertion's jti is new once per client until
// it expires, also when two callers race with it.
func testAssertionJTIs(t *testing.T, s store.Store) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	exp := now.Add(time.Minute)
	use := func(client, jti string, exp, at time.Time) bool {
		t.Helper()
		fresh, err := s.UseAssertionJTI(ctx(), client, jti, exp, at)
		if err != nil {
			t.Fatal(err)
		}
		return fresh
	}
	if !use("c1", "j1", exp, now) {
		t.Fatal("first use of j1: not new")
	}
	if use("c1", "j1", exp, now.Add(time.Second)) {
		t.Fatal("second use of j1: new (a replay accepted)")
	}
	if !use("c2", "j1", exp, now) {
		t.Fatal("j1 of another client: not new")
	}
	// Once the record has expired, the jti may come again.
	if !use("c1", "j1", exp.Add(time.Minute), exp) {
		t.Fatal("j1 after its expiry: not new")
	}
	if use("c1", "j1", exp.Add(2*time.Minute), exp.Add(30*time.Second)) {
		t.Fatal("renewed j1 before its new expiry: new")
	}

	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		fresh int
	)
	for range 8 {
		wg.Go(func() {
			ok, err := s.UseAssertionJTI(ctx(), "c3", "race", exp, now)
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				fresh++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if fresh != 1 {
		t.Fatalf("racing uses of one jti: %d new, want 1", fresh)
	}

	n, err := s.DeleteExpiredAssertionJTIs(ctx(), exp.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 { // c2/j1 and c3/race; c1/j1 lives on
		t.Fatalf("pruned %d, want 2", n)
	}
	if use("c1", "j1", exp.Add(3*time.Minute), exp.Add(time.Second)) {
		t.Fatal("pruning removed a live record")
	}
}
