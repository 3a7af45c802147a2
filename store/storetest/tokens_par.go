package storetest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
)

// testTokensPushedRequests checks what the pushed-authorization-request
// flow (RFC 9126) relies on: of many browsers bringing the same request_uri
// at once exactly one takes it up (DeactivateToken answers true once), a
// second claim record under the same key is ErrConflict, of many
// completions racing exactly one consumes the claim (DeleteToken succeeds
// once, the others are ErrNotFound), and expired records are pruned.
func testTokensPushedRequests(t *testing.T, s store.Store) {
	now := time.Now()
	par := sampleToken(store.KindPAR, "uri-digest", "req-par", now.Add(90*time.Second))
	par.Subject = ""
	if err := s.CreateToken(ctx(), par); err != nil {
		t.Fatal(err)
	}
	const racers = 8
	var (
		wg           sync.WaitGroup
		firsts, errs atomic.Int32
	)
	for range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first, err := s.DeactivateToken(ctx(), store.KindPAR, "uri-digest", store.Truncate(time.Now()))
			if err != nil {
				errs.Add(1)
			}
			if first {
				firsts.Add(1)
			}
		}()
	}
	wg.Wait()
	if firsts.Load() != 1 || errs.Load() != 0 {
		t.Fatalf("concurrent take-up: %d winners, %d errors; want exactly 1 winner", firsts.Load(), errs.Load())
	}
	got, err := s.GetToken(ctx(), store.KindPAR, "uri-digest")
	if err != nil || got.Active || got.InactiveAt.IsZero() {
		t.Fatalf("taken-up request: %+v, %v", got, err)
	}

	claim := sampleToken(store.KindPARClaim, "uri-digest", "req-par", now.Add(30*time.Minute))
	claim.Data = []byte(`{"browser":"b1"}`)
	if err := s.CreateToken(ctx(), claim); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(ctx(), sampleToken(store.KindPARClaim, "uri-digest", "req-par", now.Add(time.Hour))); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second claim: %v, want ErrConflict", err)
	}
	if c, err := s.GetToken(ctx(), store.KindPARClaim, "uri-digest"); err != nil || string(c.Data) != `{"browser":"b1"}` {
		t.Fatalf("claim: %+v, %v", c, err)
	}

	var consumed, missing atomic.Int32
	for range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch err := s.DeleteToken(ctx(), store.KindPARClaim, "uri-digest"); {
			case err == nil:
				consumed.Add(1)
			case errors.Is(err, store.ErrNotFound):
				missing.Add(1)
			}
		}()
	}
	wg.Wait()
	if consumed.Load() != 1 || missing.Load() != racers-1 {
		t.Fatalf("concurrent consumption: %d consumed, %d not found; want 1 and %d", consumed.Load(), missing.Load(), racers-1)
	}

	// An expired pushed request is pruned with the other expired records.
	old := sampleToken(store.KindPAR, "old-digest", "req-old", now.Add(-2*time.Minute))
	if err := s.CreateToken(ctx(), old); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteExpiredTokens(ctx(), now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetToken(ctx(), store.KindPAR, "old-digest"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired pushed request after pruning: %v, want ErrNotFound", err)
	}
	if _, err := s.GetToken(ctx(), store.KindPAR, "uri-digest"); err != nil {
		t.Fatalf("unexpired pushed request pruned: %v", err)
	}
}
