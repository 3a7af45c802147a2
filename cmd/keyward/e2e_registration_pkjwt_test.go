package main

import (
	"net/http"
	"net/url"
	"os"
	"testing"
)

// TestE2ERegistrationPrivateKeyJWT: a client registers itself (RFC 7591)
// with token_endpoint_auth_method private_key_jwt and its public keys
// (jwks), gets no secret, and then authenticates with an assertion signed
// by its key; a registration naming private_key_jwt without keys, or with
// a private key in its JWK Set, is refused as invalid_client_metadata.
func TestE2ERegistrationPrivateKeyJWT(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	var tok initialTokenView
	e.runJSON(&tok, "", "registration-tokens", "create", "--uses", "5")
	s := e.serve()
	reg := s.PublicURL + "/oauth2/register"
	key := newECKey(t, "dcr-1")
	public, err := os.ReadFile(jwksFile(t, false, key))
	if err != nil {
		t.Fatal(err)
	}
	private, err := os.ReadFile(jwksFile(t, true, key))
	if err != nil {
		t.Fatal(err)
	}
	meta := func(jwks string) string {
		return `{"client_name":"Signed job","grant_types":["client_credentials"],"scope":"openid",
			"token_endpoint_auth_method":"private_key_jwt"` + jwks + `}`
	}
	wantReply(t, "private_key_jwt without keys", regCall(t, "POST", reg, tok.Token, meta(""), ""),
		http.StatusBadRequest, "invalid_client_metadata")
	wantReply(t, "a private key in jwks", regCall(t, "POST", reg, tok.Token, meta(`,"jwks":`+string(private)), ""),
		http.StatusBadRequest, "invalid_client_metadata")

	r := regCall(t, "POST", reg, tok.Token, meta(`,"jwks":`+string(public)), "")
	wantReply(t, "register with jwks", r, http.StatusCreated, "")
	id := r.str("client_id")
	if id == "" || r.str("client_secret") != "" || r.json["client_secret_expires_at"] != nil ||
		r.str("token_endpoint_auth_method") != "private_key_jwt" || r.json["jwks"] == nil {
		t.Fatalf("registration answer: %s", r.raw)
	}
	m := discover(t, s)
	cc := url.Values{"grant_type": {"client_credentials"}}
	got := postForm(t, m.TokenEndpoint, withAssertion(cc, key.sign(t, assertionClaims(t, id, m.Issuer), "")), "", "")
	if got.status != http.StatusOK || got.str("access_token") == "" {
		t.Fatalf("client_credentials with the registered key: %d %s", got.status, got.raw)
	}
	other := newECKey(t, "dcr-1")
	got = postForm(t, m.TokenEndpoint, withAssertion(cc, other.sign(t, assertionClaims(t, id, m.Issuer), "")), "", "")
	if got.status != http.StatusUnauthorized || got.str("error") != "invalid_client" {
		t.Errorf("an assertion signed by another key: %d %s", got.status, got.raw)
	}
	// RFC 7592 read shows the method and the keys, never a secret.
	read := regCall(t, "GET", r.str("registration_client_uri"), r.str("registration_access_token"), "", "")
	if read.status != http.StatusOK || read.str("token_endpoint_auth_method") != "private_key_jwt" || read.json["jwks"] == nil ||
		read.str("client_secret") != "" {
		t.Errorf("RFC 7592 read: %d %s", read.status, read.raw)
	}
}
