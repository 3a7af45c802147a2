package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestConsoleClientLogo: the new-client form takes a logo URL (https
// only, refused otherwise with the reason and the value kept), and the
// client's page shows it.
func TestConsoleClientLogo(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	b := e.setup("root", adminPassword)
	p := b.get("/console/clients/new")
	p = b.submit(p, "/console/clients", url.Values{"name": {"svc"}, "logo_uri": {"http://cdn.example/svc.png"}})
	p.want(http.StatusUnprocessableEntity, "/console/clients")
	if !strings.Contains(p.body, "logo_uri") || !strings.Contains(p.body, `value="http://cdn.example/svc.png"`) {
		t.Errorf("an http logo:\n%s", p.body)
	}
	p = b.submit(p, "/console/clients", url.Values{"name": {"svc"}, "logo_uri": {"https://cdn.example/svc.png"}})
	p.want(http.StatusOK, "/console/reveal")
	id := p.byID("client-id")
	cl, err := e.db.GetClient(context.Background(), id)
	if err != nil || cl.LogoURI != "https://cdn.example/svc.png" {
		t.Fatalf("stored client: %+v, %v", cl, err)
	}
	if got := b.get("/console/clients/" + id).byID("client-logo"); got != "https://cdn.example/svc.png" {
		t.Errorf("client page logo %q", got)
	}
}
