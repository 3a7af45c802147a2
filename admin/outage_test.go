package admin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/keyward/keyward/authz/accounts"
)

// TestAPIOutage: with the database gone, the API answers 503 problem JSON
// with Retry-After, whether the store fails in a handler, while checking
// a token's revocation or while reading a console session: never 401 or
// 500. A token that is invalid on its face is still 401.
func TestAPIOutage(t *testing.T) {
	t.Parallel()
	wantUnavailable := func(t *testing.T, what string, r apiResp) {
		t.Helper()
		if r.Status != http.StatusServiceUnavailable {
			t.Fatalf("%s: %d, want 503: %s", what, r.Status, r.Body)
		}
		if p := r.problem(t); !strings.HasSuffix(p.Type, "/unavailable") {
			t.Errorf("%s: problem type %q", what, p.Type)
		}
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("%s: 503 without Retry-After", what)
		}
	}

	t.Run("handler and session", func(t *testing.T) {
		e := newAPIEnv(t)
		u, err := e.users.Create(t.Context(), accounts.UserParams{Username: "root", Password: "correct horse", Admin: true})
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		if err := e.sessions.Start(t.Context(), w, httptest.NewRequest("GET", "/", nil), u); err != nil {
			t.Fatal(err)
		}
		cookie := w.Result().Cookies()[0].String()
		if r := e.do(req{method: "GET", path: "/admin/v1/clients"}); r.Status != http.StatusOK {
			t.Fatalf("before the outage: %d %s", r.Status, r.Body)
		}
		e.db.Close()
		wantUnavailable(t, "list clients", e.do(req{method: "GET", path: "/admin/v1/clients"}))
		wantUnavailable(t, "create user", e.do(req{method: "POST", path: "/admin/v1/users",
			body: map[string]any{"username": "bob", "password": "another long one"}}))
		none := ""
		wantUnavailable(t, "console session", e.do(req{method: "GET", path: "/admin/v1/users", token: &none,
			header: map[string]string{"Cookie": cookie}}))
		forged := "eyJhbGciOiJFUzI1NiJ9.e30.AAAA"
		if r := e.do(req{method: "GET", path: "/admin/v1/users", token: &forged}); r.Status != http.StatusUnauthorized {
			t.Errorf("forged token during the outage: %d, want 401", r.Status)
		}
	})

	t.Run("token check", func(t *testing.T) {
		// The revocation list is first read by the first API call: with
		// the database gone the token cannot be checked.
		e := newAPIEnv(t)
		e.db.Close()
		wantUnavailable(t, "first call", e.do(req{method: "GET", path: "/admin/v1/clients"}))
	})
}
