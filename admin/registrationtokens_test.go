package admin

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/store"
)

// TestAPIRegistrationTokens: /registration-tokens creates initial access
// tokens (the secret in the 201 only), lists, reads and revokes them,
// refuses bad input with 400/422 problem JSON, and audits with the API
// caller as actor.
func TestAPIRegistrationTokens(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	var created clients.InitialTokenView
	r := e.call("POST", "/admin/v1/registration-tokens", map[string]any{"expires_in": "2h", "uses": 3}, http.StatusCreated, &created)
	if !strings.HasPrefix(created.Token, clients.InitialTokenPrefix) || created.MaxUses != 3 || created.State != "active" ||
		created.ExpiresAt.Sub(time.Now()) < 119*time.Minute {
		t.Fatalf("created %+v", created)
	}
	path := "/admin/v1/registration-tokens/" + created.ID
	if loc := r.Header.Get("Location"); loc != path {
		t.Errorf("Location %q", loc)
	}
	var def clients.InitialTokenView
	e.call("POST", "/admin/v1/registration-tokens", map[string]any{}, http.StatusCreated, &def)
	if def.MaxUses != 0 || def.ExpiresAt.Sub(time.Now()) < 23*time.Hour {
		t.Errorf("defaults: %+v", def)
	}
	for _, body := range []any{map[string]any{"expires_in": "-1h"}, map[string]any{"uses": -1}, map[string]any{"expires_in": 5},
		map[string]any{"uses": "many"}, "[]"} {
		if resp := e.do(req{method: "POST", path: "/admin/v1/registration-tokens", body: body}); resp.Status != 400 && resp.Status != 422 {
			t.Errorf("POST %v: %d %s", body, resp.Status, resp.Body)
		}
	}
	var got clients.InitialTokenView
	e.call("GET", path, nil, http.StatusOK, &got)
	if got.Token != "" || got.ID != created.ID {
		t.Errorf("GET shows %+v", got)
	}
	var list struct{ Items []clients.InitialTokenView }
	e.call("GET", "/admin/v1/registration-tokens?limit=1", nil, http.StatusOK, &list)
	if len(list.Items) != 1 || list.Items[0].Token != "" {
		t.Errorf("list: %+v", list)
	}
	var revoked clients.InitialTokenView
	e.call("DELETE", path, nil, http.StatusOK, &revoked)
	if revoked.State != "revoked" || revoked.RevokedAt == nil {
		t.Errorf("revoked: %+v", revoked)
	}
	if resp := e.do(req{method: "GET", path: "/admin/v1/registration-tokens/nope"}); resp.Status != 404 {
		t.Errorf("unknown: %d", resp.Status)
	}
	evs, _, err := e.db.ListAudit(context.Background(), store.AuditFilter{Type: "registration_token.*"}, store.Page{})
	if err != nil || len(evs) != 3 || evs[2].Type != "registration_token.revoked" || evs[2].Actor != "client:"+e.clientID {
		t.Errorf("audit: %+v, %v", evs, err)
	}
}
