package admin

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/keyward/keyward/authz/clients"
)

// TestAPIClientsFAPI2: the profile field of the admin API. A fapi2 client
// that does not meet the FAPI 2.0 Security Profile is 422 with a problem
// naming each missing setting; a conforming one is created with ES256 ID
// tokens; PATCH "profile": "" releases it.
func TestAPIClientsFAPI2(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	public := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "ES256"}}}
	body := map[string]any{"client_name": "bank", "profile": "fapi2", "redirect_uris": []string{"https://tpp.example/cb"},
		"token_endpoint_auth_method": "private_key_jwt", "jwks": public, "par_required": true}
	r := e.do(req{method: "POST", path: "/admin/v1/clients", body: body})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "DPoP must be required") {
		t.Fatalf("fapi2 without DPoP: %d %s", r.Status, r.Body)
	}
	body["dpop_bound_access_tokens"] = true
	var created clients.View
	e.call("POST", "/admin/v1/clients", body, http.StatusCreated, &created)
	if created.Profile != "fapi2" || created.IDTokenAlg != "ES256" || created.ClientSecret != "" {
		t.Fatalf("created: %+v", created)
	}
	path := "/admin/v1/clients/" + created.ClientID
	if r := e.do(req{method: "PATCH", path: path, body: map[string]any{"par_required": false}}); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("fapi2 client without PAR: %d %s", r.Status, r.Body)
	}
	var got clients.View
	e.call("PATCH", path, map[string]any{"profile": ""}, http.StatusOK, &got)
	if got.Profile != "" {
		t.Fatalf("profile cleared: %+v", got)
	}
}
