package authz_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/authztest"
)

// TestLoginBusy: when every password-hashing turn is taken (issue 14: a
// burst of sign-ins must not hash 64 MiB each at once), the login page
// answers 503 with Retry-After at once, as an HTML page, and the attempt
// counts neither way: the same person signs in once a turn is free, and
// six busy answers do not lock them out. (Not parallel: the gate is the
// process's.)
func TestLoginBusy(t *testing.T) {
	s := newTestServer(t, authztest.Options{})
	s.user("alice", "correct horse battery")
	accounts.LimitHashing(1, -1, time.Second)
	t.Cleanup(func() { accounts.LimitHashing(0, 0, 0) })
	release := accounts.HoldHashTurns(1)
	for range 6 {
		b := s.browser("")
		csrf := inputValue(b.get("/login").doc, "csrf_token")
		a := b.post("/login", url.Values{"csrf_token": {csrf}, "username": {"alice"}, "password": {"correct horse battery"}})
		wantHTMLPage(t, "a sign-in with no hashing turn", a, http.StatusServiceUnavailable)
		if a.header.Get("Retry-After") == "" {
			t.Fatal("503 without Retry-After")
		}
	}
	release()
	if a := s.browser("").login("alice", "correct horse battery"); a.status != http.StatusOK {
		t.Fatalf("sign-in once a turn is free: %d, want 200:\n%.300s", a.status, a.body)
	}
}
