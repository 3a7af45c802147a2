package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// requestObject returns the claims of a signed authorization request (RFC
// 9101 §4) of client for the server at issuer: the code flow with PKCE
// and the given state; the verifier goes back to redeem the code.
func requestObject(t *testing.T, clientID, issuer, state string) (claims map[string]any, verifier string) {
	verifier = oauth2.GenerateVerifier()
	sum := sha256.Sum256([]byte(verifier))
	now := time.Now()
	return map[string]any{
		"iss": clientID, "aud": issuer, "client_id": clientID, "jti": randString(t, 12),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"response_type": "code", "redirect_uri": e2eRedirect, "scope": "openid profile", "state": state,
		"nonce":          randString(t, 12),
		"code_challenge": base64.RawURLEncoding.EncodeToString(sum[:]), "code_challenge_method": "S256",
		"max_age": 3600,
	}, verifier
}

// TestE2ERequestObject: an authorization request passed as a signed
// request object (RFC 9101) by value, at the authorization endpoint and
// pushed to the PAR endpoint (RFC 9126 §3), by a private_key_jwt client:
// only the object's parameters count (a redirect_uri and scope beside it
// are ignored), the browser signs in and consents, and the code is
// redeemed with a client assertion. Objects that are unsigned, HMAC'd,
// for another audience, expired or signed by another key, and a remote
// request_uri, are refused on an error page, never redirected.
func TestE2ERequestObject(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	alice := e.newUser("alice", "correct horse battery staple", "alice@example.com", "Alice Liddell")
	key := newECKey(t, "jar-1")
	app := e.newClient("--name", "signed app", "--redirect-uri", e2eRedirect, "--scope", "openid profile",
		"--auth-method", "private_key_jwt", "--jwks-file", jwksFile(t, false, key))
	s := e.serve()
	m := discover(t, s)
	var doc map[string]any
	_, body := get(t, s.PublicURL+"/.well-known/openid-configuration")
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["request_parameter_supported"] != true || doc["request_uri_parameter_supported"] != false ||
		!contains(anyStrings(doc["request_object_signing_alg_values_supported"]), "ES256") ||
		contains(anyStrings(doc["request_object_signing_alg_values_supported"]), "none") {
		t.Errorf("discovery: request_parameter_supported %v, request_uri_parameter_supported %v, algs %v",
			doc["request_parameter_supported"], doc["request_uri_parameter_supported"], doc["request_object_signing_alg_values_supported"])
	}
	redeem := func(code, verifier string) reply {
		t.Helper()
		form := withAssertion(url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {e2eRedirect}, "code_verifier": {verifier}}, key.sign(t, assertionClaims(t, app.ClientID, m.Issuer), ""))
		return postForm(t, m.TokenEndpoint, form, "", "")
	}

	// By value, with parameters beside the object that must be ignored.
	b := newBrowser(t, s)
	claims, verifier := requestObject(t, app.ClientID, m.Issuer, "state-by-value")
	q := url.Values{"client_id": {app.ClientID}, "request": {key.sign(t, claims, "oauth-authz-req+jwt")},
		"redirect_uri": {"https://evil.example/cb"}, "scope": {"openid email"}, "state": {"outer"}}
	p := b.get(m.AuthorizationEndpoint + "?" + q.Encode())
	if !isLoginPage(t, p) {
		t.Fatalf("want the login page, got %d %s\n%.800s", p.status, p.url, p.body)
	}
	p = b.login(p, alice)
	if !isConsentPage(t, p) {
		t.Fatalf("want the consent page, got %d %s\n%.800s", p.status, p.url, p.body)
	}
	if strings.Contains(p.body, `<span class="scope-name">email</span>`) {
		t.Errorf("the consent page asks for the scope beside the object (email)")
	}
	cb := callback(t, b.decide(p, "allow"), e2eRedirect)
	if cb.Get("state") != "state-by-value" || cb.Get("code") == "" || cb.Get("iss") != s.PublicURL {
		t.Fatalf("callback %v", cb)
	}
	r := redeem(cb.Get("code"), verifier)
	if r.status != http.StatusOK || r.str("id_token") == "" || r.str("scope") != "openid profile" {
		t.Fatalf("code from a request object: %d %s", r.status, r.raw)
	}

	// Pushed (RFC 9126 §3), authenticated with an assertion.
	claims, verifier = requestObject(t, app.ClientID, m.Issuer, "state-pushed")
	push := withAssertion(url.Values{"client_id": {app.ClientID}, "request": {key.sign(t, claims, "oauth-authz-req+jwt")}},
		key.sign(t, assertionClaims(t, app.ClientID, m.Issuer), ""))
	pr := postForm(t, s.PublicURL+"/oauth2/par", push, "", "")
	if pr.status != http.StatusCreated || !strings.HasPrefix(pr.str("request_uri"), "urn:ietf:params:oauth:request_uri:") {
		t.Fatalf("PAR with a request object: %d %s", pr.status, pr.raw)
	}
	p = b.get(m.AuthorizationEndpoint + "?" + url.Values{"client_id": {app.ClientID}, "request_uri": {pr.str("request_uri")}}.Encode())
	if isConsentPage(t, p) { // alice granted openid profile already
		p = b.decide(p, "allow")
	}
	cb = callback(t, p, e2eRedirect)
	if cb.Get("state") != "state-pushed" {
		t.Fatalf("callback of the pushed object: %v", cb)
	}
	if r := redeem(cb.Get("code"), verifier); r.status != http.StatusOK {
		t.Fatalf("code from a pushed request object: %d %s", r.status, r.raw)
	}
	// A pushed object that is not signed by the client is refused at PAR.
	bad, _ := requestObject(t, app.ClientID, m.Issuer, "x")
	push = withAssertion(url.Values{"client_id": {app.ClientID}, "request": {unsignedJWT(bad)}},
		key.sign(t, assertionClaims(t, app.ClientID, m.Issuer), ""))
	if pr := postForm(t, s.PublicURL+"/oauth2/par", push, "", ""); pr.status != http.StatusBadRequest || pr.str("error") != "invalid_request_object" {
		t.Errorf("PAR with an unsigned object: %d %s", pr.status, pr.raw)
	}

	// Refused objects: a page, no redirect.
	other := newECKey(t, "jar-1")
	change := func(f func(c map[string]any)) map[string]any {
		c, _ := requestObject(t, app.ClientID, m.Issuer, "refused")
		f(c)
		return c
	}
	for name, q := range map[string]url.Values{
		"alg none":           {"request": {unsignedJWT(change(func(map[string]any) {}))}},
		"HS256":              {"request": {hs256JWT(t, change(func(map[string]any) {}), []byte(strings.Repeat("s", 32)))}},
		"another audience":   {"request": {key.sign(t, change(func(c map[string]any) { c["aud"] = "https://other.example" }), "")}},
		"expired":            {"request": {key.sign(t, change(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }), "")}},
		"another key":        {"request": {other.sign(t, change(func(map[string]any) {}), "")}},
		"iss not the client": {"request": {key.sign(t, change(func(c map[string]any) { c["iss"] = "someone" }), "")}},
		"remote request_uri": {"request_uri": {"https://attacker.example/request.jwt"}},
	} {
		q.Set("client_id", app.ClientID)
		p := b.get(m.AuthorizationEndpoint + "?" + q.Encode())
		if p.status != http.StatusBadRequest || p.location() != nil || !strings.Contains(p.body, "request") {
			t.Errorf("%s: %d at %s, want a 400 page\n%.600s", name, p.status, p.url, p.body)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
