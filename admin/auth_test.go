package admin

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/keyward/keyward/authz/accounts"
)

// TestAPIAuth: only a bearer token with the admin scope gets in; anyone
// else gets a 401 problem, on unknown routes too. openapi.json is public.
func TestAPIAuth(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	_, weak := e.tokenFor("read")
	for _, tc := range []struct {
		name, method, path string
		token              string
		header             string
	}{
		{name: "no token", method: "GET", path: "/admin/v1/clients"},
		{name: "forged token", method: "GET", path: "/admin/v1/clients", token: "eyJhbGciOiJFUzI1NiJ9.e30.AAAA"},
		{name: "token without the scope", method: "GET", path: "/admin/v1/clients", token: weak},
		{name: "basic credentials", method: "GET", path: "/admin/v1/users", header: "Basic b3BzOnNlY3JldA=="},
		{name: "POST without token", method: "POST", path: "/admin/v1/signing-keys/rotate"},
		{name: "unknown route", method: "GET", path: "/admin/v1/nope"},
		{name: "wrong method", method: "PUT", path: "/admin/v1/users"},
		{name: "API root", method: "GET", path: "/admin/v1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := req{method: tc.method, path: tc.path, token: &tc.token}
			if tc.header != "" {
				r.header = map[string]string{"Authorization": tc.header}
			}
			resp := e.do(r)
			if resp.Status != http.StatusUnauthorized {
				t.Fatalf("%d, want 401: %s", resp.Status, resp.Body)
			}
			if p := resp.problem(t); !strings.HasSuffix(p.Type, "/unauthorized") {
				t.Errorf("problem type %q", p.Type)
			}
			if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer ") {
				t.Errorf("WWW-Authenticate = %q", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
	if r := e.do(req{method: "GET", path: "/admin/v1/openapi.json", token: strPtr("")}); r.Status != http.StatusOK {
		t.Errorf("openapi.json without a token: %d", r.Status)
	}
	if r := e.do(req{method: "GET", path: "/admin/v1/clients"}); r.Status != http.StatusOK {
		t.Errorf("with the admin token: %d %s", r.Status, r.Body)
	}
}

// TestAPIConsoleSession: an admin user's console session also reaches the
// API, but changes must come as JSON (no cross-site form can send that).
func TestAPIConsoleSession(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	session := func(admin bool) string {
		t.Helper()
		u, err := e.users.Create(t.Context(), accounts.UserParams{Username: "u" + strconv.FormatBool(admin), Password: "correct horse", Admin: admin})
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		if err := e.sessions.Start(t.Context(), w, httptest.NewRequest("GET", "/", nil), u); err != nil {
			t.Fatal(err)
		}
		return w.Result().Cookies()[0].String()
	}
	admin, plain := session(true), session(false)
	none := ""
	get := e.do(req{method: "GET", path: "/admin/v1/users", token: &none, header: map[string]string{"Cookie": admin}})
	if get.Status != http.StatusOK {
		t.Fatalf("GET with an admin session: %d %s", get.Status, get.Body)
	}
	if r := e.do(req{method: "GET", path: "/admin/v1/users", token: &none, header: map[string]string{"Cookie": plain}}); r.Status != http.StatusUnauthorized {
		t.Errorf("GET with a non-admin session: %d", r.Status)
	}
	form := e.do(req{method: "POST", path: "/admin/v1/signing-keys/rotate", token: &none,
		header: map[string]string{"Cookie": admin, "Content-Type": "application/x-www-form-urlencoded"}})
	if form.Status != http.StatusUnsupportedMediaType {
		t.Errorf("form POST with a session: %d %s", form.Status, form.Body)
	}
	if r := e.do(req{method: "DELETE", path: "/admin/v1/users/x", token: &none, header: map[string]string{"Cookie": admin}}); r.Status != http.StatusUnsupportedMediaType {
		t.Errorf("DELETE without JSON with a session: %d", r.Status)
	}
	if r := e.do(req{method: "POST", path: "/admin/v1/signing-keys/rotate", token: &none, body: `{"force":true}`,
		header: map[string]string{"Cookie": admin}}); r.Status != http.StatusOK {
		t.Errorf("JSON POST with a session: %d %s", r.Status, r.Body)
	}
}
