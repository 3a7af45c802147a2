package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
)

// testUIChallenges: a challenge is decided once before it expires, and
// its verifier is taken up once.
func testUIChallenges(t *testing.T, s store.Store) {
	now := store.Truncate(time.Now())
	c := &store.UIChallenge{ID: "ch1", Kind: "login", Request: `{"a":1}`, CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
	if err := s.CreateUIChallenge(ctx(), c); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUIChallenge(ctx(), c); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate: %v, want ErrConflict", err)
	}
	got, err := s.GetUIChallenge(ctx(), "ch1")
	if err != nil || got.Kind != "login" || got.Request != `{"a":1}` || got.Outcome != "" || !got.DecidedAt.IsZero() ||
		!got.ExpiresAt.Equal(c.ExpiresAt) {
		t.Fatalf("get: %+v, %v", got, err)
	}
	if _, err := s.GetUIChallenge(ctx(), "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	if _, err := s.UseUIChallenge(ctx(), "v1", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("use before decision: %v", err)
	}
	if err := s.DecideUIChallenge(ctx(), "nope", "v0", "{}", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("decide unknown: %v", err)
	}
	if err := s.DecideUIChallenge(ctx(), "ch1", "v1", `{"ok":true}`, now); err != nil {
		t.Fatal(err)
	}
	if err := s.DecideUIChallenge(ctx(), "ch1", "v2", `{"ok":false}`, now); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second decision: %v, want ErrConflict", err)
	}
	used, err := s.UseUIChallenge(ctx(), "v1", now.Add(time.Second))
	if err != nil || used.ID != "ch1" || used.Outcome != `{"ok":true}` || used.VerifierDigest != "v1" || used.UsedAt.IsZero() {
		t.Fatalf("use: %+v, %v", used, err)
	}
	if _, err := s.UseUIChallenge(ctx(), "v1", now.Add(time.Second)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second use: %v", err)
	}

	// Expired: neither decided nor used.
	old := &store.UIChallenge{ID: "ch2", Kind: "consent", Request: "{}", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
	if err := s.CreateUIChallenge(ctx(), old); err != nil {
		t.Fatal(err)
	}
	if err := s.DecideUIChallenge(ctx(), "ch2", "v3", "{}", now.Add(2*time.Minute)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("decide expired: %v, want ErrConflict", err)
	}
	if err := s.DecideUIChallenge(ctx(), "ch2", "v3", "{}", now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseUIChallenge(ctx(), "v3", now.Add(2*time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("use expired: %v", err)
	}
	if n, err := s.DeleteExpiredUIChallenges(ctx(), now.Add(2*time.Minute)); err != nil || n != 1 {
		t.Fatalf("prune: %d, %v; want 1", n, err)
	}
	if _, err := s.GetUIChallenge(ctx(), "ch2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("pruned challenge: %v", err)
	}
	if _, err := s.GetUIChallenge(ctx(), "ch1"); err != nil {
		t.Fatalf("live challenge pruned: %v", err)
	}
}
