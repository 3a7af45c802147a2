package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// TestE2EPrivateKeyJWTOpenIDClient: openid-client (npm), an independent
// client, authenticates with client.PrivateKeyJwt (RFC 7523) for a
// client_credentials grant and for the code grant, and signs its
// authorization request with buildAuthorizationUrlWithJAR (RFC 9101);
// the test's browser signs alice in and consents, and openid-client
// validates the ID token it gets. testdata/privatekeyjwt_openid_client.mjs.
func TestE2EPrivateKeyJWTOpenIDClient(t *testing.T) {
	t.Parallel()
	node, modules := npmPackage(t, "openid-client", openidClientVersion)
	e := sqliteEnv(t)
	alice := e.newUser("alice", "correct horse battery staple", "alice@example.com", "Alice Liddell")
	key := newECKey(t, "js-1")
	app := e.newClient("--name", "js app", "--grant-type", "client_credentials", "--grant-type", "authorization_code",
		"--grant-type", "refresh_token", "--redirect-uri", e2eRedirect, "--scope", "openid profile read",
		"--auth-method", "private_key_jwt", "--jwks-file", jwksFile(t, false, key))
	s := e.serve()

	jwk, err := json.Marshal(jose.JSONWebKey{Key: key.priv, KeyID: key.kid, Algorithm: string(key.alg), Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	run := func(step string, extra ...string) map[string]any {
		t.Helper()
		env := append([]string{"KEYWARD_STEP=" + step, "KEYWARD_ISSUER=" + s.PublicURL, "KEYWARD_CLIENT_ID=" + app.ClientID,
			"KEYWARD_JWK=" + string(jwk), "KEYWARD_REDIRECT_URI=" + e2eRedirect, "KEYWARD_SCOPE=openid profile"}, extra...)
		var v map[string]any
		runNode(t, node, nodeScript(t, modules, "privatekeyjwt_openid_client.mjs"), time.Minute, &v, env...)
		return v
	}

	start := run("start")
	cc, _ := start["cc"].(map[string]any)
	if cc["access_token"] == nil || cc["scope"] != "read" {
		t.Errorf("openid-client client_credentials with PrivateKeyJwt: %v", start["cc"])
	}
	authURL, _ := start["url"].(string)
	b := newBrowser(t, s)
	p := b.get(authURL)
	if !isLoginPage(t, p) {
		t.Fatalf("openid-client's JAR URL %s: %d\n%.800s", authURL, p.status, p.body)
	}
	p = b.login(p, alice)
	if isConsentPage(t, p) {
		p = b.decide(p, "allow")
	}
	cb := p.location()
	if cb == nil {
		t.Fatalf("no callback: %d %s\n%.800s", p.status, p.url, p.body)
	}
	got := run("finish", "KEYWARD_CALLBACK="+cb.String(), "KEYWARD_VERIFIER="+start["verifier"].(string),
		"KEYWARD_STATE="+start["state"].(string), "KEYWARD_NONCE="+start["nonce"].(string))
	claims, _ := got["claims"].(map[string]any)
	tokens, _ := got["tokens"].(map[string]any)
	if got["error"] != nil || claims["sub"] != alice.ID || tokens["access_token"] == nil || tokens["refresh_token"] == nil {
		t.Fatalf("openid-client authorizationCodeGrant: %v", got)
	}
}
