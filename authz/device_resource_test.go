package authz_test

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/authz/resources"
)

// TestDeviceGrantResources: RFC 8707 resources on the device grant, as on
// the authorization code grant: named at the device authorization
// endpoint (an unknown or malformed one is invalid_target, a scope they do
// not accept invalid_scope), they are the access token's aud, and a
// refresh may narrow them.
func TestDeviceGrantResources(t *testing.T) {
	t.Parallel()
	f := newDeviceFixture(t)
	const orders, billing = "https://api.example/orders", "https://api.example/billing"
	for _, p := range []resources.Params{{URI: orders, Scopes: []string{"orders:read"}}, {URI: billing}} {
		if _, err := f.st.Resources.Create(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	tv, _ := f.client(clients.Params{Name: "Device app", Public: true, GrantTypes: []string{grantDevice, clients.GrantRefreshToken},
		Scopes: []string{"orders:read", "offline_access", "other"}})
	rs, rsSecret := f.client(clients.Params{Name: "Resource server", GrantTypes: []string{clients.GrantClientCredentials}})
	ask := func(scope string, res ...string) jsonAnswer {
		return f.postJSON("/oauth2/device/auth", url.Values{"scope": {scope}, "resource": res}, tv, "")
	}
	for name, a := range map[string]jsonAnswer{
		"an unknown resource":   ask("orders:read", "https://api.example/nope"),
		"a relative resource":   ask("orders:read", "/orders"),
		"a resource with #frag": ask("orders:read", orders+"#x"),
	} {
		wantOAuthError(t, name, a, http.StatusBadRequest, "invalid_target")
	}
	wantOAuthError(t, "a scope the resources do not accept", ask("other", orders), http.StatusBadRequest, "invalid_scope")

	da := ask("orders:read offline_access", orders, billing)
	if da.status != http.StatusOK {
		t.Fatalf("device authorization with resources: %d %v", da.status, da.body)
	}
	b := f.browser("")
	if a := b.login("alice", "correct horse battery"); a.status != http.StatusOK {
		t.Fatalf("login: %d", a.status)
	}
	f.decide(b, da.str("user_code"), "allow")
	f.clock.Add(10 * time.Second)
	tok := f.poll(tv, "", da.str("device_code"))
	if tok.status != http.StatusOK {
		t.Fatalf("tokens: %d %v", tok.status, tok.body)
	}
	intro := f.postJSON("/oauth2/introspect", url.Values{"token": {tok.str("access_token")}}, rs, rsSecret)
	if got := audOf(intro.body["aud"]); !reflect.DeepEqual(got, []string{orders, billing}) {
		t.Fatalf("aud %v, want exactly the resources asked for (%v)", got, intro.body)
	}
	// A refresh may narrow them, and not go beyond.
	refresh := func(res ...string) jsonAnswer {
		return f.postJSON("/oauth2/token", url.Values{"grant_type": {"refresh_token"},
			"refresh_token": {tok.str("refresh_token")}, "resource": res}, tv, "")
	}
	wantOAuthError(t, "a refresh beyond the grant", refresh("https://api.example/other"), http.StatusBadRequest, "invalid_target")
	narrow := refresh(orders)
	if narrow.status != http.StatusOK {
		t.Fatalf("narrowing refresh: %d %v", narrow.status, narrow.body)
	}
	intro = f.postJSON("/oauth2/introspect", url.Values{"token": {narrow.str("access_token")}}, rs, rsSecret)
	if got := audOf(intro.body["aud"]); !reflect.DeepEqual(got, []string{orders}) {
		t.Fatalf("narrowed aud %v", got)
	}
}
