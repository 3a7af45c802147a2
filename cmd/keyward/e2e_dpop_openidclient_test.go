package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/authz/verify"
)

// TestE2EDPoPOpenIDClient runs DPoP (RFC 9449) with an independent
// client, openid-client (npm) through its getDPoPHandle
// (testdata/dpop_openid_client.mjs on Node.js), against `keyward serve
// --dpop-nonce`, so the library also has to follow the server's nonces
// (use_dpop_nonce and DPoP-Nonce, RFC 9449 §8): client credentials, then
// an authorization code flow pushed with a DPoP proof (§10.1) with
// UserInfo and refresh. A resource server protected by authz/verify's
// middleware admits the library's proofs. Refused as RFC 9449 says: the
// refresh token with a thief's key or none (invalid_grant), the access
// token as a bearer token at UserInfo (invalid_token). On SQLite only.
func TestE2EDPoPOpenIDClient(t *testing.T) {
	t.Parallel()
	node, modules := npmPackage(t, "openid-client", openidClientVersion)
	e := sqliteEnv(t)
	alice := e.newUser("alice", "correct horse battery", "alice@example.com", "Alice Liddell")
	svc := e.newClient("--name", "svc", "--grant-type", "client_credentials", "--scope", "orders:read", "--dpop-required")
	spa := e.newClient("--name", "spa", "--public", "--scope", "openid profile", "--redirect-uri", e2eRedirect,
		"--grant-type", "authorization_code", "--grant-type", "refresh_token")
	rs := e.newClient("--name", "resource server", "--grant-type", "client_credentials")
	s := e.serve("--dpop-nonce")
	m := discover(t, s)

	v, err := verify.New(t.Context(), verify.Config{Issuer: s.PublicURL})
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(verify.Middleware(v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", verify.ClaimsFromContext(r.Context()).Subject)
	})))
	defer api.Close()

	run := func(mode string, c clientInfo, scope string, drive func(authURL string) string) map[string]any {
		t.Helper()
		r := startNode(t, node, nodeScript(t, modules, "dpop_openid_client.mjs"), 90*time.Second,
			"ISSUER="+s.PublicURL, "CLIENT_ID="+c.ClientID, "CLIENT_SECRET="+c.ClientSecret,
			"MODE="+mode, "SCOPE="+scope, "REDIRECT_URI="+e2eRedirect, "RESOURCE_URL="+api.URL+"/orders")
		got := r.next()
		if drive != nil {
			authURL, _ := got["authorization_url"].(string)
			if authURL == "" {
				t.Fatalf("openid-client: %v\n%s", got, r.stderr.String())
			}
			r.send(drive(authURL))
			got = r.next()
		}
		r.wait()
		if got["error"] != nil {
			t.Fatalf("openid-client (%s): %v %v\n%s", mode, got["error"], got["message"], r.stderr.String())
		}
		return got
	}
	resourceOK := func(what string, got map[string]any, sub string) {
		t.Helper()
		res, _ := got["resource"].(map[string]any)
		if res["status"] != float64(200) || res["body"] != "hello "+sub {
			t.Errorf("%s: the verify middleware answered openid-client %v", what, res)
		}
	}

	// Client credentials.
	got := run("client_credentials", svc, "orders:read", nil)
	at, _ := got["access_token"].(string)
	if !strings.EqualFold(fmt.Sprint(got["token_type"]), "DPoP") || at == "" {
		t.Fatalf("client credentials: %v", got)
	}
	in := introspect(t, m, rs, at)
	if in.str("token_type") != "DPoP" || introspectionJKT(in) == "" || introspectionJKT(in) != tokenCnf(t, at) {
		t.Errorf("introspection of openid-client's token: %s", in.raw)
	}
	resourceOK("client credentials", got, svc.ClientID)

	// Authorization code, pushed with a proof, refresh, UserInfo.
	got = run("code", spa, "openid profile", func(authURL string) string {
		if !strings.HasPrefix(authURL, m.AuthorizationEndpoint+"?") || !strings.Contains(authURL, "request_uri=") {
			t.Fatalf("authorization URL %q, want a pushed request", authURL)
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
		callback(t, p, e2eRedirect)
		return p.location().String()
	})
	if !strings.EqualFold(fmt.Sprint(got["token_type"]), "DPoP") || !strings.EqualFold(fmt.Sprint(got["refreshed_token_type"]), "DPoP") {
		t.Errorf("token types %v / %v, want DPoP", got["token_type"], got["refreshed_token_type"])
	}
	if ui, _ := got["userinfo"].(map[string]any); ui["sub"] != alice.ID {
		t.Errorf("UserInfo through openid-client: %v", got["userinfo"])
	}
	if got["refresh_other_key"] != "invalid_grant" || got["refresh_no_key"] != "invalid_grant" {
		t.Errorf("refresh token with a thief's key: %v, with none: %v; want invalid_grant", got["refresh_other_key"], got["refresh_no_key"])
	}
	if ch := fmt.Sprint(got["userinfo_as_bearer"]); !strings.EqualFold(ch, "dpop invalid_token") {
		t.Errorf("the DPoP-bound token as a bearer token at UserInfo: %s, want a DPoP invalid_token challenge", ch)
	}
	resourceOK("refreshed token", got, alice.ID)
}
