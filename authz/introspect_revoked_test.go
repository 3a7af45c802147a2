package authz_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/keyward/keyward/authz/clients"
)

// TestIntrospectRevokedJWT: a revoked JWT access token introspects
// inactive at once, whether its signature was verified before the
// revocation (its claims in the verified-token cache) or it is first seen
// after it, and the revocation of one token leaves the others active.
func TestIntrospectRevokedJWT(t *testing.T) {
	e := newBenchEnv(t)
	id, secret := e.client(t, clients.Params{Name: "rs", Scopes: []string{"read"}})
	mint := func() string {
		w := e.post("/oauth2/token", id, secret, url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}})
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if json.Unmarshal(w.Body.Bytes(), &tok) != nil || tok.AccessToken == "" {
			t.Fatalf("token: %d %s", w.Code, w.Body)
		}
		return tok.AccessToken
	}
	active := func(tok string) bool {
		t.Helper()
		w := e.post("/oauth2/introspect", id, secret, url.Values{"token": {tok}})
		if w.Code != 200 {
			t.Fatalf("introspect: %d %s", w.Code, w.Body)
		}
		if !strings.Contains(w.Body.String(), `"active":true`) && w.Body.String() != `{"active":false}` {
			t.Fatalf("introspect: %s", w.Body)
		}
		return strings.Contains(w.Body.String(), `"active":true`)
	}
	revoke := func(tok string) {
		t.Helper()
		if w := e.post("/oauth2/revoke", id, secret, url.Values{"token": {tok}}); w.Code != 200 {
			t.Fatalf("revoke: %d %s", w.Code, w.Body)
		}
	}
	seen, unseen, other := mint(), mint(), mint()
	if !active(seen) || !active(seen) || !active(other) {
		t.Fatal("a new token introspects inactive")
	}
	revoke(seen)
	revoke(unseen)
	if active(seen) {
		t.Error("a token verified before its revocation still introspects active")
	}
	if active(unseen) {
		t.Error("a token revoked before its first introspection introspects active")
	}
	if !active(other) {
		t.Error("revoking two tokens made a third inactive")
	}
}
