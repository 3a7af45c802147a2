package admin

import (
	"net/http"
	"strings"
	"testing"

	"github.com/keyward/keyward/authz/accounts"
)

// TestAPIProviders: /providers is CRUD with the API's conventions (201 +
// Location and the redirect_uri, 422, 409 for a taken name, 404), the
// client secret is never shown, enabled toggles, and a name cannot change.
func TestAPIProviders(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	var created accounts.ProviderView
	r := e.call("POST", "/admin/v1/providers", map[string]any{"name": "corp", "issuer": "https://idp.example",
		"client_id": "kw", "client_secret": "s3cret-value", "scope": "openid email"}, http.StatusCreated, &created)
	if created.ID == "" || created.Name != "corp" || created.Scope != "openid email" || !created.Enabled ||
		created.RedirectURI != "https://issuer.example/oauth2/upstream/corp/callback" || created.Claims.Username != "preferred_username" {
		t.Fatalf("created %+v", created)
	}
	if strings.Contains(string(r.Body), "s3cret-value") {
		t.Fatal("the client secret is in the answer")
	}
	path := "/admin/v1/providers/" + created.ID
	if loc := r.Header.Get("Location"); loc != path {
		t.Errorf("Location %q", loc)
	}
	resp := e.do(req{method: "POST", path: "/admin/v1/providers", body: map[string]any{"name": "corp",
		"issuer": "https://idp.example", "client_id": "kw", "client_secret": "x"}})
	if resp.Status != http.StatusConflict {
		t.Errorf("same name again: %d %s", resp.Status, resp.Body)
	}
	resp = e.do(req{method: "POST", path: "/admin/v1/providers", body: map[string]any{"name": "Bad Name",
		"issuer": "http://idp.example"}})
	if resp.Status != http.StatusUnprocessableEntity || len(resp.problem(t).Errors) != 4 {
		t.Errorf("invalid: %d %s", resp.Status, resp.Body)
	}
	var got accounts.ProviderView
	e.call("PATCH", path, map[string]any{"enabled": false, "display_name": "Corp SSO"}, http.StatusOK, &got)
	if got.Enabled || got.DisplayName != "Corp SSO" || got.Issuer != created.Issuer {
		t.Fatalf("patch: %+v", got)
	}
	if resp := e.do(req{method: "PATCH", path: path, body: map[string]any{"name": "other"}}); resp.Status != http.StatusBadRequest {
		t.Errorf("rename: %d %s", resp.Status, resp.Body)
	}
	e.call("GET", "/admin/v1/providers/corp", nil, http.StatusOK, &got)
	if got.ID != created.ID {
		t.Fatalf("get by name: %+v", got)
	}
	var list struct{ Items []accounts.ProviderView }
	e.call("GET", "/admin/v1/providers", nil, http.StatusOK, &list)
	if len(list.Items) != 1 || list.Items[0].ID != created.ID {
		t.Fatalf("list: %+v", list)
	}
	e.call("DELETE", path, nil, http.StatusNoContent, nil)
	if resp := e.do(req{method: "GET", path: path}); resp.Status != http.StatusNotFound {
		t.Errorf("deleted: %d", resp.Status)
	}
}
