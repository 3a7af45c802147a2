package admin

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/store"
)

func TestAPIUsers(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	var alice accounts.UserView
	e.call("POST", "/admin/v1/users", map[string]any{"username": "alice", "password": "correct horse",
		"email": "alice@example.com", "name": "Alice", "admin": true}, http.StatusCreated, &alice)
	if alice.ID == "" || alice.Username != "alice" || !alice.Admin {
		t.Fatalf("created: %+v", alice)
	}
	if r := e.do(req{method: "POST", path: "/admin/v1/users", body: map[string]any{"username": "alice", "password": "correct horse"}}); r.Status != http.StatusConflict {
		t.Errorf("duplicate username: %d %s", r.Status, r.Body)
	}
	r := e.do(req{method: "POST", path: "/admin/v1/users", body: map[string]any{"username": "a b", "password": "short", "email": "nope"}})
	if r.Status != http.StatusUnprocessableEntity || len(r.problem(t).Errors) != 3 {
		t.Errorf("invalid user: %d %s", r.Status, r.Body)
	} else {
		for i, f := range []string{"username", "password", "email"} {
			if got := r.problem(t).Errors[i]; got.Field != f || got.Message == "" {
				t.Errorf("error %d: %+v, want one about %s", i, got, f)
			}
		}
	}
	path := "/admin/v1/users/" + alice.ID

	// The last enabled admin cannot be demoted, disabled or deleted.
	for _, body := range []map[string]any{{"admin": false}, {"disabled": true}} {
		if r := e.do(req{method: "PATCH", path: path, body: body}); r.Status != http.StatusConflict {
			t.Errorf("PATCH %v of the last admin: %d %s", body, r.Status, r.Body)
		}
	}
	if r := e.do(req{method: "DELETE", path: path}); r.Status != http.StatusConflict {
		t.Errorf("DELETE of the last admin: %d", r.Status)
	}

	var got accounts.UserView
	e.call("PATCH", path, map[string]any{"name": "Alice L.", "email": "al@example.com", "password": "another password"},
		http.StatusOK, &got)
	if got.Name != "Alice L." || got.Email != "al@example.com" || !got.Admin {
		t.Fatalf("patch: %+v", got)
	}
	u, err := e.db.GetUser(context.Background(), alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := accounts.CheckPassword(u.PasswordHash, "another password"); !ok {
		t.Error("the password did not change")
	}
	if r := e.do(req{method: "PATCH", path: path, body: map[string]any{"password": "x", "email": "bad"}}); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("invalid patch: %d", r.Status)
	}

	var bob accounts.UserView
	e.call("POST", "/admin/v1/users", map[string]any{"username": "bob", "password": "correct horse", "admin": true}, http.StatusCreated, &bob)
	e.call("PATCH", path, map[string]any{"disabled": true}, http.StatusOK, &got)
	if !got.Disabled {
		t.Fatalf("disable: %+v", got)
	}
	e.call("GET", path, nil, http.StatusOK, &got)
	if !got.Disabled || got.Name != "Alice L." {
		t.Fatalf("get: %+v", got)
	}
	e.call("DELETE", path, nil, http.StatusNoContent, nil)
	if r := e.do(req{method: "GET", path: path}); r.Status != http.StatusNotFound {
		t.Errorf("get after delete: %d", r.Status)
	}
	var list listBody[accounts.UserView]
	e.call("GET", "/admin/v1/users", nil, http.StatusOK, &list)
	if len(list.Items) != 1 || list.Items[0].Username != "bob" {
		t.Fatalf("list: %+v", list)
	}
}

// TestAPIResetUserFactors: POST /users/{id}/reset-factors removes the
// user's second factors and browser sessions, answers 204, records
// user.factors_reset, and is a 404 problem for an unknown user.
func TestAPIResetUserFactors(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	ctx, now := context.Background(), time.Now().UTC()
	var dave accounts.UserView
	e.call("POST", "/admin/v1/users", map[string]any{"username": "dave", "password": "correct horse"}, http.StatusCreated, &dave)
	if err := e.db.PutTOTP(ctx, &store.TOTPFactor{UserID: dave.ID, Secret: []byte{1}, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := e.db.CreateWebAuthnCredential(ctx, &store.WebAuthnCredential{ID: []byte("k1"), UserID: dave.ID, PublicKey: []byte{1}, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := e.db.ReplaceRecoveryCodes(ctx, dave.ID, []string{"x"}, now); err != nil {
		t.Fatal(err)
	}
	if err := e.db.CreateBrowserSession(ctx, &store.BrowserSession{ID: "dave-s", UserID: dave.ID, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var reset map[string]any
	e.call("POST", "/admin/v1/users/"+dave.ID+"/reset-factors", nil, http.StatusOK, &reset)
	if reset["id"] != dave.ID || reset["username"] != "dave" || reset["totp_removed"] != true ||
		reset["passkeys_removed"] != float64(1) || reset["sessions_ended"] != float64(1) {
		t.Errorf("reset-factors answer: %v", reset)
	}
	if _, err := e.db.GetTOTP(ctx, dave.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TOTP after reset: %v", err)
	}
	if creds, _ := e.db.ListWebAuthnCredentials(ctx, dave.ID); len(creds) != 0 {
		t.Errorf("passkeys after reset: %d", len(creds))
	}
	if n, _ := e.db.CountRecoveryCodes(ctx, dave.ID); n != 0 {
		t.Errorf("recovery codes after reset: %d", n)
	}
	if _, err := e.db.GetBrowserSession(ctx, "dave-s"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session after reset: %v", err)
	}
	evs, _, err := e.db.ListAudit(ctx, store.AuditFilter{Subject: dave.ID, Type: "user.factors_reset"}, store.Page{Limit: 5})
	if err != nil || len(evs) != 1 || !strings.HasPrefix(evs[0].Actor, "client:") {
		t.Fatalf("audit: %+v, %v", evs, err)
	}
	r := e.do(req{method: "POST", path: "/admin/v1/users/nobody/reset-factors"})
	if r.Status != http.StatusNotFound || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") {
		t.Errorf("unknown user: %d %s", r.Status, r.Body)
	}
}
