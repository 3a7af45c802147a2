package admin

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/authz/resources"
	"github.com/keyward/keyward/store"
)

// TestAPIResources: /resources is CRUD with the API's conventions (201 +
// Location, 422 listing every problem, 409 for a taken uri, 404, pages),
// every change is audited with the API caller as actor, and clients take
// a resources list.
func TestAPIResources(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	var created resources.View
	r := e.call("POST", "/admin/v1/resources", map[string]any{"uri": "https://orders.example/api", "name": "Orders",
		"scope": "orders:read orders:write"}, http.StatusCreated, &created)
	if created.ID == "" || created.URI != "https://orders.example/api" || created.Scope != "orders:read orders:write" || created.Name != "Orders" {
		t.Fatalf("created %+v", created)
	}
	path := "/admin/v1/resources/" + created.ID
	if loc := r.Header.Get("Location"); loc != path {
		t.Errorf("Location %q", loc)
	}

	resp := e.do(req{method: "POST", path: "/admin/v1/resources", body: map[string]any{"uri": "https://orders.example/api"}})
	if resp.Status != http.StatusConflict || !strings.Contains(resp.problem(t).Detail, "uri") {
		t.Errorf("same uri again: %d %s", resp.Status, resp.Body)
	}
	resp = e.do(req{method: "POST", path: "/admin/v1/resources", body: map[string]any{"uri": "/relative#frag", "scope": `a "b`}})
	if resp.Status != http.StatusUnprocessableEntity || len(resp.problem(t).Errors) != 2 {
		t.Errorf("invalid: %d %s", resp.Status, resp.Body)
	}
	for name, body := range map[string]any{"unknown field": map[string]any{"uri": "urn:x", "url": "urn:y"}, "not JSON": "uri=urn:x"} {
		if resp := e.do(req{method: "POST", path: "/admin/v1/resources", body: body}); resp.Status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, resp.Status, resp.Body)
		}
	}

	var got resources.View
	e.call("PATCH", path, map[string]any{"name": "Orders v2"}, http.StatusOK, &got)
	if got.Name != "Orders v2" || got.URI != created.URI || got.Scope != created.Scope {
		t.Fatalf("patch: %+v", got)
	}
	e.call("POST", "/admin/v1/resources", map[string]any{"uri": "urn:example:billing"}, http.StatusCreated, nil)
	if resp := e.do(req{method: "PATCH", path: path, body: map[string]any{"uri": "urn:example:billing"}}); resp.Status != http.StatusConflict {
		t.Errorf("patch to a taken uri: %d %s", resp.Status, resp.Body)
	}
	var page struct {
		Items      []resources.View `json:"items"`
		NextCursor string           `json:"next_cursor"`
	}
	e.call("GET", "/admin/v1/resources?limit=1", nil, http.StatusOK, &page)
	if len(page.Items) != 1 || page.NextCursor == "" {
		t.Fatalf("page: %+v", page)
	}

	// A client's resources list, on create and PATCH; checked like any field.
	var cl clients.View
	e.call("POST", "/admin/v1/clients", map[string]any{"client_name": "agent", "resources": []string{created.URI}},
		http.StatusCreated, &cl)
	if !slices.Equal(cl.Resources, []string{created.URI}) {
		t.Fatalf("client resources %v", cl.Resources)
	}
	e.call("PATCH", "/admin/v1/clients/"+cl.ClientID, map[string]any{"client_name": "agent2"}, http.StatusOK, &cl)
	if !slices.Equal(cl.Resources, []string{created.URI}) {
		t.Fatalf("PATCH lost the resources: %v", cl.Resources)
	}
	if resp := e.do(req{method: "PATCH", path: "/admin/v1/clients/" + cl.ClientID, body: map[string]any{"resources": []string{"no-scheme"}}}); resp.Status != http.StatusUnprocessableEntity {
		t.Errorf("client with a relative resource: %d %s", resp.Status, resp.Body)
	}

	e.call("DELETE", path, nil, http.StatusNoContent, nil)
	if resp := e.do(req{method: "GET", path: path}); resp.Status != http.StatusNotFound {
		t.Errorf("after delete: %d", resp.Status)
	}
	if resp := e.do(req{method: "DELETE", path: path}); resp.Status != http.StatusNotFound {
		t.Errorf("delete twice: %d", resp.Status)
	}

	events, _, err := e.db.ListAudit(context.Background(), store.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, ev := range events {
		if strings.HasPrefix(ev.Type, "resource.") && ev.Subject == created.ID {
			if ev.Actor != "client:"+e.clientID {
				t.Errorf("%s actor %q", ev.Type, ev.Actor)
			}
			seen = append(seen, ev.Type)
		}
	}
	if want := []string{"resource.created", "resource.updated", "resource.deleted"}; !slices.Equal(seen, want) {
		t.Errorf("audit %v, want %v", seen, want)
	}

	// Without the admin scope: 401 like every route.
	if resp := e.do(req{method: "GET", path: "/admin/v1/resources", token: strPtr("")}); resp.Status != http.StatusUnauthorized {
		t.Errorf("anonymous: %d", resp.Status)
	}
}
