package admin

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/keyward/keyward/authz/clients"
)

func TestAPIClients(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	var created clients.View
	r := e.call("POST", "/admin/v1/clients", map[string]any{
		"client_name": "web", "grant_types": []string{"authorization_code", "refresh_token"},
		"redirect_uris": []string{"https://app.example/cb"}, "scope": "openid profile",
	}, http.StatusCreated, &created)
	if created.ClientID == "" || created.ClientSecret == "" || created.Scope != "openid profile" {
		t.Fatalf("created: %+v", created)
	}
	if loc := r.Header.Get("Location"); loc != "/admin/v1/clients/"+created.ClientID {
		t.Errorf("Location = %q", loc)
	}
	path := "/admin/v1/clients/" + created.ClientID

	var got clients.View
	e.call("GET", path, nil, http.StatusOK, &got)
	if got.ClientSecret != "" || got.Name != "web" || !slices.Equal(got.RedirectURIs, created.RedirectURIs) {
		t.Fatalf("get: %+v", got)
	}

	// PATCH changes only what it names.
	e.call("PATCH", path, map[string]any{"client_name": "web2", "skip_consent": true}, http.StatusOK, &got)
	if got.Name != "web2" || !got.SkipConsent || got.Scope != "openid profile" || len(got.GrantTypes) != 2 {
		t.Fatalf("patch: %+v", got)
	}
	// par_required (RFC 9126 §6) is set and kept by a PATCH of another field.
	e.call("PATCH", path, map[string]any{"par_required": true}, http.StatusOK, &got)
	e.call("PATCH", path, map[string]any{"client_name": "web3"}, http.StatusOK, &got)
	if !got.PARRequired || got.Name != "web3" {
		t.Fatalf("patch par_required: %+v", got)
	}
	// dpop_bound_access_tokens (RFC 9449 §5.2) likewise.
	e.call("PATCH", path, map[string]any{"dpop_bound_access_tokens": true}, http.StatusOK, &got)
	e.call("PATCH", path, map[string]any{"client_name": "web4"}, http.StatusOK, &got)
	if !got.DPoPRequired || !got.PARRequired || got.Name != "web4" {
		t.Fatalf("patch dpop_bound_access_tokens: %+v", got)
	}
	// PUT replaces every setting.
	e.call("PUT", path, map[string]any{"client_name": "svc", "scope": "read"}, http.StatusOK, &got)
	if got.Name != "svc" || got.SkipConsent || len(got.RedirectURIs) != 0 || !slices.Equal(got.GrantTypes, []string{"client_credentials"}) {
		t.Fatalf("put: %+v", got)
	}
	// Invalid settings list every problem.
	resp := e.do(req{method: "PATCH", path: path, body: map[string]any{"client_name": "", "grant_types": []string{"password"}}})
	if resp.Status != http.StatusUnprocessableEntity {
		t.Fatalf("invalid patch: %d %s", resp.Status, resp.Body)
	}
	if p := resp.problem(t); len(p.Errors) != 2 || p.Errors[0].Field != "client_name" || p.Errors[1].Field != "grant_types" {
		t.Errorf("problems: %+v, want one about client_name and one about grant_types", p.Errors)
	}

	var rotated clients.View
	e.call("POST", path+"/rotate-secret", nil, http.StatusOK, &rotated)
	if rotated.ClientSecret == "" || rotated.ClientSecret == created.ClientSecret {
		t.Fatalf("rotate: %+v", rotated)
	}

	var list listBody[clients.View]
	e.call("GET", "/admin/v1/clients", nil, http.StatusOK, &list)
	if len(list.Items) != 2 || list.NextCursor != "" { // ops (the token's client) and svc
		t.Fatalf("list: %+v", list)
	}
	e.call("DELETE", path, nil, http.StatusNoContent, nil)
	for _, m := range []string{"GET", "DELETE", "PATCH"} {
		if r := e.do(req{method: m, path: path, body: map[string]any{}}); r.Status != http.StatusNotFound {
			t.Errorf("%s after delete: %d", m, r.Status)
		} else {
			r.problem(t)
		}
	}
	if r := e.do(req{method: "POST", path: path + "/rotate-secret"}); r.Status != http.StatusNotFound {
		t.Errorf("rotate after delete: %d", r.Status)
	}
}

// TestAPIClientsPrivateKeyJWT: token_endpoint_auth_method, jwks and
// jwks_uri through the API: a private_key_jwt client gets no secret, a
// JWK Set with a private key is refused with a problem naming it, a PATCH
// of jwks_uri replaces the jwks, and a secret client can move to
// private_key_jwt (its secret dropped) but not back.
func TestAPIClientsPrivateKeyJWT(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	public := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "ES256"}}}
	private := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key, KeyID: "k1"}}}

	r := e.do(req{method: "POST", path: "/admin/v1/clients", body: map[string]any{"client_name": "leaky",
		"token_endpoint_auth_method": "private_key_jwt", "jwks": private}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), "private") {
		t.Fatalf("private key in jwks: %d %s", r.Status, r.Body)
	}
	var created clients.View
	e.call("POST", "/admin/v1/clients", map[string]any{"client_name": "svc",
		"token_endpoint_auth_method": "private_key_jwt", "jwks": public}, http.StatusCreated, &created)
	if created.ClientSecret != "" || created.TokenEndpointAuth != "private_key_jwt" || !strings.Contains(string(created.JWKS), `"k1"`) {
		t.Fatalf("created: %+v", created)
	}
	path := "/admin/v1/clients/" + created.ClientID
	var got clients.View
	e.call("PATCH", path, map[string]any{"jwks_uri": "https://svc.example/jwks.json"}, http.StatusOK, &got)
	if got.JWKSURI != "https://svc.example/jwks.json" || len(got.JWKS) != 0 {
		t.Fatalf("patch jwks_uri: %+v", got)
	}
	if r := e.do(req{method: "PATCH", path: path, body: map[string]any{"token_endpoint_auth_method": "client_secret_post"}}); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("back to a secret: %d %s", r.Status, r.Body)
	}
	if r := e.do(req{method: "POST", path: path + "/rotate-secret"}); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("rotate-secret: %d %s", r.Status, r.Body)
	}

	var sec clients.View
	e.call("POST", "/admin/v1/clients", map[string]any{"client_name": "old", "token_endpoint_auth_method": "client_secret_post"},
		http.StatusCreated, &sec)
	if sec.ClientSecret == "" || sec.TokenEndpointAuth != "client_secret_post" {
		t.Fatalf("client_secret_post: %+v", sec)
	}
	e.call("PATCH", "/admin/v1/clients/"+sec.ClientID, map[string]any{"token_endpoint_auth_method": "private_key_jwt", "jwks": public},
		http.StatusOK, &got)
	if got.TokenEndpointAuth != "private_key_jwt" {
		t.Fatalf("to private_key_jwt: %+v", got)
	}
}
