package admin

import (
	"context"
	"net/http"
	"testing"

	"github.com/keyward/keyward/authz/accounts"
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
