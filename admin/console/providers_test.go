package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keyward/keyward/store"
)

// TestConsoleProviders: an admin adds an upstream provider (a refused one
// comes back with the reasons and the values as typed, never the secret),
// sees it listed with its redirect URI, disables and enables it, and
// deletes it after a confirmation.
func TestConsoleProviders(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	b := e.setup("root", adminPassword)
	ctx := context.Background()

	if p := b.get("/console/"); !p.hasLink("/console/providers") {
		t.Fatal("the navigation has no sign-in providers link")
	}
	p := b.get("/console/providers")
	p.want(http.StatusOK, "/console/providers")
	p = b.submit(p, "/console/providers", url.Values{"name": {"corp"}, "issuer": {"ftp://x"}, "client_id": {"kw"},
		"client_secret": {"typed-secret"}})
	p.want(http.StatusUnprocessableEntity, "/console/providers")
	if !strings.Contains(p.body, "must be https") || !strings.Contains(p.body, `value="kw"`) || strings.Contains(p.body, "typed-secret") {
		t.Errorf("validation page:\n%s", p.body)
	}
	p = b.submit(p, "/console/providers", url.Values{"name": {"corp"}, "display_name": {"Corp SSO"},
		"issuer": {"https://idp.example"}, "client_id": {"kw"}, "client_secret": {"typed-secret"}})
	p.want(http.StatusOK, "/console/providers")
	if !strings.Contains(p.body, "https://issuer.example/oauth2/upstream/corp/callback") || !strings.Contains(p.body, "Corp SSO") {
		t.Errorf("list after create:\n%s", p.body)
	}
	up, err := e.db.GetUpstreamProviderByName(ctx, "corp")
	if err != nil || !up.Enabled || strings.Contains(string(up.ClientSecret), "typed-secret") {
		t.Fatalf("stored %+v, %v", up, err)
	}
	p = b.submit(p, "/console/providers/"+up.ID+"/enabled", url.Values{"enabled": {"off"}})
	p.want(http.StatusOK, "/console/providers")
	if up, _ = e.db.GetUpstreamProvider(ctx, up.ID); up.Enabled {
		t.Fatal("still enabled")
	}
	p = b.submit(p, "/console/providers/"+up.ID+"/enabled", url.Values{"enabled": {"on"}})
	if up, _ = e.db.GetUpstreamProvider(ctx, up.ID); !up.Enabled {
		t.Fatal("still disabled")
	}
	p = b.get("/console/providers/" + up.ID + "/delete")
	p = b.submit(p, "/console/providers/"+up.ID+"/delete", nil)
	p.want(http.StatusOK, "/console/providers")
	if _, err := e.db.GetUpstreamProvider(ctx, up.ID); err != store.ErrNotFound {
		t.Errorf("deleted provider: %v", err)
	}
	if p := b.post("/console/providers", url.Values{"name": {"forged"}}); p.status != http.StatusForbidden {
		t.Errorf("POST without CSRF: %d", p.status)
	}
}
