package console

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/keyward/keyward/store"
)

// TestConsoleResources: an admin registers resources (refused ones come
// back with the reasons and the values as typed), sees them listed,
// deletes one after a confirmation, and gives a client a resource list.
func TestConsoleResources(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	b := e.setup("root", adminPassword)
	ctx := context.Background()

	p := b.get("/console/")
	if !p.hasLink("/console/resources") {
		t.Fatal("the navigation has no Resources link")
	}
	p = b.get("/console/resources")
	p.want(http.StatusOK, "/console/resources")
	p = b.submit(p, "/console/resources", url.Values{"uri": {"/relative#frag"}, "name": {"Orders"}})
	p.want(http.StatusUnprocessableEntity, "/console/resources")
	if !strings.Contains(p.body, "must be an absolute URI") || !strings.Contains(p.body, `value="Orders"`) {
		t.Errorf("validation page:\n%s", p.body)
	}
	p = b.submit(p, "/console/resources", url.Values{"uri": {"https://orders.example/api"}, "scope": {"orders:read orders:write"}})
	p.want(http.StatusOK, "/console/resources")
	if !strings.Contains(p.body, "https://orders.example/api") || !strings.Contains(p.body, "orders:read orders:write") {
		t.Errorf("list after create:\n%s", p.body)
	}
	p = b.submit(p, "/console/resources", url.Values{"uri": {"https://orders.example/api"}, "name": {"again"}})
	p.want(http.StatusConflict, "/console/resources")
	r, err := e.db.GetResourceByURI(ctx, "https://orders.example/api")
	if err != nil || !slices.Equal(r.Scopes, []string{"orders:read", "orders:write"}) || r.Name != "Orders" && r.Name != "" {
		t.Fatalf("stored %+v, %v", r, err)
	}

	// A client limited to that resource.
	p = b.get("/console/clients/new")
	p = b.submit(p, "/console/clients", url.Values{"name": {"agent"}, "resources": {"https://orders.example/api\nurn:example:tool"}})
	p.want(http.StatusOK, "/console/reveal")
	cl, err := e.db.GetClient(ctx, p.byID("client-id"))
	if err != nil || !slices.Equal(cl.Resources, []string{"https://orders.example/api", "urn:example:tool"}) {
		t.Fatalf("client %+v, %v", cl, err)
	}
	if got := b.get("/console/clients/" + cl.ID).byID("client-resources"); got != "https://orders.example/api urn:example:tool" {
		t.Errorf("client page resources %q", got)
	}
	p = b.get("/console/clients/new")
	p = b.submit(p, "/console/clients", url.Values{"name": {"bad"}, "resources": {"https://x.example/#f"}})
	p.want(http.StatusUnprocessableEntity, "/console/clients")
	if !strings.Contains(p.body, "must not have a fragment") || !strings.Contains(p.body, "https://x.example/#f") {
		t.Errorf("client validation page:\n%s", p.body)
	}

	p = b.get("/console/resources/" + r.ID + "/delete")
	p = b.submit(p, "/console/resources/"+r.ID+"/delete", nil)
	p.want(http.StatusOK, "/console/resources")
	if _, err := e.db.GetResource(ctx, r.ID); err != store.ErrNotFound {
		t.Errorf("deleted resource: %v", err)
	}
	b.get("/console/resources/nope/delete").want(http.StatusNotFound, "")
	// A form without its CSRF token changes nothing.
	if p := b.post("/console/resources", url.Values{"uri": {"https://forged.example"}}); p.status != http.StatusForbidden {
		t.Errorf("POST without CSRF: %d", p.status)
	}
	if _, err := e.db.GetResourceByURI(ctx, "https://forged.example"); err != store.ErrNotFound {
		t.Errorf("forged resource stored: %v", err)
	}
}
