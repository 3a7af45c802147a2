package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// TestE2EFAPI2OpenIDClient runs a whole FAPI 2.0 Security Profile flow
// with an independent client, openid-client (npm;
// testdata/fapi2_openid_client.mjs), against a client created with
// `clients create --profile fapi2` and `keyward serve --dpop-nonce`:
// PrivateKeyJwt (ES256), buildAuthorizationUrlWithPAR with PKCE S256,
// DPoP through getDPoPHandle (following the server's nonces), login and
// consent driven by the test, the token request, UserInfo and a refresh;
// the authorization response carries iss (RFC 9207) and the ID token is
// ES256. Refused for that client, each with the error the profile or RFC
// names: a token request without a DPoP proof (400 invalid_request) or
// with a proof signed RS256 (400 invalid_dpop_proof); a front-channel
// authorization request that was not pushed (invalid_request back at the
// redirect URI); a pushed request without redirect_uri (400
// invalid_request); a client secret, an HS256 assertion, an RS256
// assertion signed by a key the client registered and an assertion whose
// aud holds more than the issuer (401 invalid_client); a request object
// signed RS256 (400 invalid_request_object).
// A fapi2 client that lacks DPoP or private_key_jwt is refused by the CLI,
// naming each problem. On SQLite only.
func TestE2EFAPI2OpenIDClient(t *testing.T) {
	t.Parallel()
	node, modules := npmPackage(t, "openid-client", openidClientVersion)
	e := sqliteEnv(t)
	alice := e.newUser("alice", "correct horse battery", "alice@example.com", "Alice Liddell")
	key := newECKey(t, "fapi-es256")
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey := clientKey{priv: rk, kid: "fapi-rs256", alg: jose.RS256}
	keys := jwksFile(t, false, key, rsaKey)

	// The CLI refuses a fapi2 client that does not meet the profile.
	code, _, stderr := e.run("", "clients", "create", "--name", "weak", "--profile", "fapi2", "--redirect-uri", e2eRedirect)
	for _, want := range []string{"private_key_jwt", "--par-required", "--dpop-required"} {
		if code == 0 || !strings.Contains(stderr, want) {
			t.Errorf("clients create --profile fapi2 without %s: exit %d, stderr %q", want, code, stderr)
		}
	}
	bank := e.newClient("--name", "bank app", "--profile", "fapi2", "--auth-method", "private_key_jwt", "--jwks-file", keys,
		"--par-required", "--dpop-required", "--redirect-uri", e2eRedirect, "--scope", "openid profile accounts")
	s := e.serve("--dpop-nonce")
	m := discover(t, s)
	parURL := s.PublicURL + "/oauth2/par"

	jwk, err := json.Marshal(jose.JSONWebKey{Key: key.priv, KeyID: key.kid, Algorithm: string(key.alg), Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	client := startNode(t, node, nodeScript(t, modules, "fapi2_openid_client.mjs"), 90*time.Second,
		"ISSUER="+s.PublicURL, "CLIENT_ID="+bank.ClientID, "JWK="+string(jwk),
		"REDIRECT_URI="+e2eRedirect, "SCOPE=openid profile accounts")
	got := client.next()
	authURL, _ := got["authorization_url"].(string)
	if !strings.HasPrefix(authURL, m.AuthorizationEndpoint+"?") || !strings.Contains(authURL, "request_uri=") {
		t.Fatalf("openid-client: %v, want a pushed request\n%s", got, client.stderr.String())
	}
	b := newBrowser(t, s)
	p := b.get(authURL)
	if !isLoginPage(t, p) {
		t.Fatalf("want the login page, got %d", p.status)
	}
	if p = b.login(p, alice); !isConsentPage(t, p) {
		t.Fatalf("want the consent page, got %d", p.status)
	}
	p = b.decide(p, "allow")
	if q := callback(t, p, e2eRedirect); q.Get("iss") != s.PublicURL || q.Get("code") == "" {
		t.Errorf("authorization response %v, want a code and iss %s (RFC 9207)", q, s.PublicURL)
	}
	client.send(p.location().String())
	got = client.next()
	client.wait()
	if got["error"] != nil {
		t.Fatalf("openid-client: %v %v\n%s", got["error"], got["message"], client.stderr.String())
	}
	if !strings.EqualFold(fmt.Sprint(got["token_type"]), "DPoP") || !strings.EqualFold(fmt.Sprint(got["refreshed_token_type"]), "DPoP") {
		t.Errorf("token types %v / %v, want DPoP", got["token_type"], got["refreshed_token_type"])
	}
	if at, _ := got["access_token"].(string); tokenCnf(t, at) == "" {
		t.Errorf("the access token has no cnf.jkt")
	}
	if got["id_token_alg"] != "ES256" {
		t.Errorf("ID token alg %v, want ES256", got["id_token_alg"])
	}
	for _, k := range []string{"userinfo", "refreshed_userinfo"} {
		if ui, _ := got[k].(map[string]any); ui["sub"] != alice.ID {
			t.Errorf("%s through openid-client: %v", k, got[k])
		}
	}
	if got["refresh_no_dpop"] != "invalid_request" {
		t.Errorf("refresh without a DPoP proof: %v, want invalid_request", got["refresh_no_dpop"])
	}
	if got["refresh_rs256_dpop"] != "invalid_dpop_proof" {
		t.Errorf("refresh with an RS256 DPoP proof: %v, want invalid_dpop_proof", got["refresh_rs256_dpop"])
	}

	// A front-channel authorization request, not pushed.
	q := url.Values{"client_id": {bank.ClientID}, "response_type": {"code"}, "redirect_uri": {e2eRedirect},
		"scope": {"openid"}, "state": {"s1"}, "code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"}}
	p = newBrowser(t, s).get(m.AuthorizationEndpoint + "?" + q.Encode())
	if r := callback(t, p, e2eRedirect); r.Get("error") != "invalid_request" || r.Get("iss") != s.PublicURL {
		t.Errorf("authorization request not pushed: %v, want invalid_request with iss", r)
	}

	// Client authentication at the token endpoint: only private_key_jwt,
	// only ES256/PS256. A bogus refresh token after a good assertion is
	// invalid_grant, so the assertion itself passed.
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"not-a-token"}}
	good := withAssertion(form, key.sign(t, assertionClaims(t, bank.ClientID, s.PublicURL), ""))
	wantOAuthError(t, "ES256 assertion, unknown refresh token", postForm(t, m.TokenEndpoint, good, "", ""), 400, "invalid_grant")
	wantOAuthError(t, "client secret", postForm(t, m.TokenEndpoint, form, bank.ClientID, "a-guessed-secret"), 401, "invalid_client")
	hs := withAssertion(form, hs256JWT(t, assertionClaims(t, bank.ClientID, s.PublicURL), []byte(strings.Repeat("k", 32))))
	wantOAuthError(t, "HS256 assertion", postForm(t, m.TokenEndpoint, hs, "", ""), 401, "invalid_client")
	rs := withAssertion(form, rsaKey.sign(t, assertionClaims(t, bank.ClientID, s.PublicURL), ""))
	r := postForm(t, m.TokenEndpoint, rs, "", "")
	wantOAuthError(t, "RS256 assertion by a registered key", r, 401, "invalid_client")
	if !strings.Contains(r.str("error_description"), "FAPI 2.0") {
		t.Errorf("RS256 assertion refused for another reason: %s", r.raw)
	}

	both := withAssertion(form, key.sign(t, mutate(t, bank.ClientID, s.PublicURL, func(c map[string]any) {
		c["aud"] = []string{s.PublicURL, m.TokenEndpoint}
	}), ""))
	wantOAuthError(t, "assertion with an aud beside the issuer", postForm(t, m.TokenEndpoint, both, "", ""), 401, "invalid_client")

	// A pushed request without redirect_uri.
	push := url.Values{"client_id": {bank.ClientID}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s2"},
		"code_challenge": {strings.Repeat("b", 43)}, "code_challenge_method": {"S256"}}
	r = postForm(t, parURL, withAssertion(push, key.sign(t, assertionClaims(t, bank.ClientID, s.PublicURL), "")), "", "")
	wantOAuthError(t, "pushed request without redirect_uri", r, 400, "invalid_request")
	if !strings.Contains(r.str("error_description"), "redirect_uri") {
		t.Errorf("pushed request without redirect_uri refused for another reason: %s", r.raw)
	}

	// A pushed request object signed RS256 by a key the client registered;
	// the same object signed ES256 is accepted.
	claims, _ := requestObject(t, bank.ClientID, s.PublicURL, "s3")
	obj := url.Values{"client_id": {bank.ClientID}, "request": {rsaKey.sign(t, claims, "oauth-authz-req+jwt")}}
	r = postForm(t, parURL, withAssertion(obj, key.sign(t, assertionClaims(t, bank.ClientID, s.PublicURL), "")), "", "")
	wantOAuthError(t, "RS256 request object", r, 400, "invalid_request_object")
	obj.Set("request", key.sign(t, claims, "oauth-authz-req+jwt"))
	if r = postForm(t, parURL, withAssertion(obj, key.sign(t, assertionClaims(t, bank.ClientID, s.PublicURL), "")), "", ""); r.status != 201 {
		t.Errorf("ES256 request object: %d %s", r.status, r.raw)
	}
}
