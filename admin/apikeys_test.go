package admin

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/keyward/keyward/keys"
)

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	ctx := context.Background()
	verify := func(raw string) keys.Code {
		t.Helper()
		res, err := e.apikeys.Verify(ctx, raw, "")
		if err != nil {
			t.Fatal(err)
		}
		return res.Code
	}

	var k keys.View
	r := e.call("POST", "/admin/v1/apikeys", map[string]any{"name": "ci", "scope": "read write",
		"expires_in": "30d", "rate_limit": "100/1m", "metadata": map[string]string{"team": "ops"}}, http.StatusCreated, &k)
	if k.ID == "" || k.Key == "" || k.Prefix == "" || k.Scope != "read write" || k.ExpiresAt == nil ||
		k.RateLimit != "100/1m" || k.Metadata["team"] != "ops" {
		t.Fatalf("created: %+v", k)
	}
	if d := time.Until(*k.ExpiresAt); d < 29*24*time.Hour || d > 31*24*time.Hour {
		t.Errorf("expires_at %v", k.ExpiresAt)
	}
	if r.Header.Get("Location") != "/admin/v1/apikeys/"+k.ID {
		t.Errorf("Location %q", r.Header.Get("Location"))
	}
	if verify(k.Key) != keys.CodeValid {
		t.Fatal("the new key does not verify")
	}
	path := "/admin/v1/apikeys/" + k.ID

	for name, body := range map[string]any{
		"no name":       map[string]any{"scopes": []string{"a"}},
		"both scopes":   map[string]any{"name": "x", "scopes": []string{"a"}, "scope": "a"},
		"both expiries": map[string]any{"name": "x", "expires_in": "1h", "expires_at": "2099-01-01T00:00:00Z"},
		"past expiry":   map[string]any{"name": "x", "expires_at": "2000-01-01T00:00:00Z"},
	} {
		if r := e.do(req{method: "POST", path: "/admin/v1/apikeys", body: body}); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	for name, body := range map[string]any{
		"bad duration":   map[string]any{"name": "x", "expires_in": "soon"},
		"bad rate limit": map[string]any{"name": "x", "rate_limit": 5},
		"bad time":       map[string]any{"name": "x", "expires_at": "tomorrow"},
	} {
		// A value its field refuses is 422 with the field named, like
		// every other validation problem.
		if r := e.do(req{method: "POST", path: "/admin/v1/apikeys", body: body}); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		} else if p := r.problem(t); len(p.Errors) != 1 || p.Errors[0].Field == "name" || p.Errors[0].Field == "" {
			t.Errorf("%s: errors %+v, want the one field at fault", name, p.Errors)
		}
	}

	var got keys.View
	e.call("GET", path, nil, http.StatusOK, &got)
	if got.Key != "" || got.Name != "ci" {
		t.Fatalf("get: %+v", got)
	}
	e.call("PATCH", path, map[string]any{"name": "ci-2", "scopes": []string{"read"}, "expires_at": nil}, http.StatusOK, &got)
	if got.Name != "ci-2" || got.Scope != "read" || got.ExpiresAt != nil || got.RateLimit != "100/1m" {
		t.Fatalf("patch: %+v", got)
	}

	e.call("POST", path+"/disable", nil, http.StatusOK, &got)
	if !got.Disabled || verify(k.Key) != keys.CodeRevoked {
		t.Fatalf("disable: %+v", got)
	}
	e.call("POST", path+"/enable", nil, http.StatusOK, &got)
	if got.Disabled || verify(k.Key) != keys.CodeValid {
		t.Fatalf("enable: %+v", got)
	}

	// A roll keeps the id; the old key works through the grace period.
	var rolled keys.View
	e.call("POST", path+"/roll", map[string]any{"grace_period": "1h"}, http.StatusOK, &rolled)
	if rolled.ID != k.ID || rolled.Key == "" || rolled.Key == k.Key {
		t.Fatalf("roll: %+v", rolled)
	}
	if verify(rolled.Key) != keys.CodeValid || verify(k.Key) != keys.CodeValid {
		t.Fatal("after a roll with grace both keys should work")
	}
	var again keys.View
	e.call("POST", path+"/roll", map[string]any{"grace_period": "0s"}, http.StatusOK, &again)
	if verify(rolled.Key) == keys.CodeValid || verify(again.Key) != keys.CodeValid {
		t.Fatal("a roll without grace should end the previous key at once")
	}
	if r := e.do(req{method: "POST", path: path + "/roll", body: map[string]any{"grace_period": "-1h"}}); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("negative grace: %d", r.Status)
	}

	e.call("POST", path+"/revoke", nil, http.StatusOK, &got)
	if !got.Revoked || got.RevokedAt == nil || verify(again.Key) != keys.CodeRevoked {
		t.Fatalf("revoke: %+v", got)
	}
	if r := e.do(req{method: "POST", path: path + "/roll"}); r.Status != http.StatusConflict {
		t.Errorf("roll of a revoked key: %d", r.Status)
	}

	var list listBody[keys.View]
	e.call("GET", "/admin/v1/apikeys", nil, http.StatusOK, &list)
	if len(list.Items) != 1 || list.Items[0].Key != "" {
		t.Fatalf("list: %+v", list)
	}
	e.call("DELETE", path, nil, http.StatusNoContent, nil)
	if r := e.do(req{method: "GET", path: path}); r.Status != http.StatusNotFound {
		t.Errorf("get after delete: %d", r.Status)
	}
}
