package authz_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keyward/keyward/authz/authztest"
)

// TestLoginBodyCap: POST /login reads at most 1 MiB, like every other
// endpoint. A larger form (a 9 MiB password, which would otherwise be
// read and hashed) is refused with 413 as an HTML page, and does not
// count as a failed sign-in: the user signs in right after.
func TestLoginBodyCap(t *testing.T) {
	s := newTestServer(t, authztest.Options{})
	s.user("alice", "correct horse battery")
	b := s.browser("")
	csrf := inputValue(b.get("/login").doc, "csrf_token")
	for _, size := range []int{1<<20 + 1, 9 << 20} {
		form := url.Values{"csrf_token": {csrf}, "username": {"alice"}}.Encode() + "&password="
		body := io.MultiReader(strings.NewReader(form), strings.NewReader(strings.Repeat("p", size)))
		a := b.postBody("/login", body)
		wantHTMLPage(t, "a login form over 1 MiB", a, http.StatusRequestEntityTooLarge)
	}
	for range 6 {
		b := s.browser("")
		csrf := inputValue(b.get("/login").doc, "csrf_token")
		big := url.Values{"csrf_token": {csrf}, "username": {"alice"}, "password": {strings.Repeat("p", 2<<20)}}
		if a := b.post("/login", big); a.status != http.StatusRequestEntityTooLarge {
			t.Fatalf("a login form of 2 MiB: %d, want 413", a.status)
		}
	}
	if a := s.browser("").login("alice", "correct horse battery"); a.status != http.StatusOK {
		t.Fatalf("sign-in after refused oversized forms: %d, want 200:\n%.300s", a.status, a.body)
	}
}
