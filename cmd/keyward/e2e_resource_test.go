package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/keyward/keyward/authz/verify"
	"github.com/keyward/keyward/authz/verify/ginverify"
)

// TestE2EResourceIndicators: resources registered with the CLI are
// advertised (protected_resources, RFC 9728 §4); golang.org/x/oauth2 runs
// the authorization code flow with PKCE and resource (RFC 8707) through
// the real login and consent pages; the JWT's aud is exactly the
// resource, introspection says so, and a resource server protected by
// authz/verify (ginverify.RequireResource) admits the token, refuses one
// for another resource with resource_metadata in its challenge, and
// serves its RFC 9728 metadata. An unknown resource is invalid_target at
// the authorization endpoint and at the token endpoint.
func TestE2EResourceIndicators(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	const mcp, other = "https://mcp.example.com/mcp", "https://other.example.com"
	e.runJSON(&struct{}{}, "", "resources", "create", "--uri", mcp, "--name", "Tools", "--scope", "tools:call tools:list")
	e.runJSON(&struct{}{}, "", "resources", "create", "--uri", other)
	alice := e.newUser("alice", "correct horse battery", "alice@example.com", "Alice")
	agent := e.newClient("--name", "Agent", "--public", "--scope", "openid tools:call tools:list", "--redirect-uri", e2eRedirect)
	rs := e.newClient("--name", "Resource server", "--grant-type", "client_credentials", "--scope", "tools:call")
	s := e.serve()
	ctx := context.Background()

	code, body := get(t, s.PublicURL+"/.well-known/oauth-authorization-server")
	var as struct {
		ProtectedResources []string `json:"protected_resources"`
	}
	if code != 200 || json.Unmarshal([]byte(body), &as) != nil || !slices.Equal(as.ProtectedResources, []string{mcp, other}) {
		t.Fatalf("discovery %d protected_resources %v", code, as.ProtectedResources)
	}

	r := newRP(t, s, agent, "openid", "tools:call")
	b := newBrowser(t, s)
	a := r.authRequest(t, oauth2.SetAuthURLParam("resource", mcp))
	q, sawLogin, sawConsent := r.authorize(t, b, s, alice, a)
	if !sawLogin || !sawConsent {
		t.Errorf("login page %v, consent page %v; want both", sawLogin, sawConsent)
	}
	tok, err := r.cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(a.verifier), oauth2.SetAuthURLParam("resource", mcp))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	claims := jwtClaims(t, tok.AccessToken)
	if aud, _ := claims["aud"].([]any); len(aud) != 1 || aud[0] != mcp {
		t.Fatalf("aud %v, want exactly [%s]", claims["aud"], mcp)
	}
	if claims["sub"] != alice.ID || claims["scope"] != "openid tools:call" {
		t.Errorf("claims %v", claims)
	}
	m := discover(t, s)
	info := introspect(t, m, rs, tok.AccessToken)
	wantActive(t, "resource token", info)
	if aud, _ := info.json["aud"].([]any); len(aud) != 1 || aud[0] != mcp {
		t.Errorf("introspection aud %v", info.json["aud"])
	}

	// The resource server: the SDK, configured for its own resource.
	v, err := verify.New(ctx, verify.Config{Issuer: s.PublicURL, Audience: mcp})
	if err != nil {
		t.Fatal(err)
	}
	meta := &verify.ProtectedResourceMetadata{Resource: mcp, AuthorizationServers: []string{s.PublicURL},
		ScopesSupported: []string{"tools:call", "tools:list"}}
	gin.SetMode(gin.ReleaseMode)
	g := gin.New()
	g.GET(meta.WellKnownPath(), gin.WrapH(meta))
	g.POST("/mcp", ginverify.RequireResource(v, meta, "tools:call"), func(c *gin.Context) {
		c.String(http.StatusOK, ginverify.Claims(c).Subject)
	})
	api := httptest.NewServer(g)
	defer api.Close()
	call := func(token string) (int, string, string) {
		req, _ := http.NewRequest(http.MethodPost, api.URL+"/mcp", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rep := do(t, req)
		return rep.status, rep.header.Get("WWW-Authenticate"), rep.raw
	}
	if st, _, body := call(tok.AccessToken); st != 200 || body != alice.ID {
		t.Fatalf("resource server with the token: %d %s", st, body)
	}
	// A token for the other resource (authorized the same way) is refused.
	a2 := r.authRequest(t, oauth2.SetAuthURLParam("resource", other))
	q2, _, _ := r.authorize(t, b, s, alice, a2)
	tok2, err := r.cfg.Exchange(ctx, q2.Get("code"), oauth2.VerifierOption(a2.verifier))
	if err != nil {
		t.Fatalf("exchange for %s: %v", other, err)
	}
	if aud, _ := jwtClaims(t, tok2.AccessToken)["aud"].([]any); len(aud) != 1 || aud[0] != other {
		t.Fatalf("second token aud %v", aud)
	}
	st, challenge, _ := call(tok2.AccessToken)
	if st != http.StatusUnauthorized || !strings.HasPrefix(challenge, `Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"`) {
		t.Fatalf("token for another resource: %d %q", st, challenge)
	}
	code, body = get(t, api.URL+meta.WellKnownPath())
	if code != 200 || !strings.Contains(body, `"resource":"`+mcp+`"`) {
		t.Fatalf("metadata: %d %s", code, body)
	}

	// Unknown resources: invalid_target at both endpoints.
	bad := r.authRequest(t, oauth2.SetAuthURLParam("resource", "https://unknown.example"))
	if got := wantAuthorizeError(t, b, s, alice, bad.url); got != "invalid_target" {
		t.Errorf("authorize with an unknown resource: %q", got)
	}
	a3 := r.authRequest(t, oauth2.SetAuthURLParam("resource", mcp))
	q3, _, _ := r.authorize(t, b, s, alice, a3)
	_, err = r.cfg.Exchange(ctx, q3.Get("code"), oauth2.VerifierOption(a3.verifier), oauth2.SetAuthURLParam("resource", other))
	if re, ok := err.(*oauth2.RetrieveError); !ok || re.ErrorCode != "invalid_target" || re.Response.StatusCode != 400 {
		t.Errorf("token request for a resource outside the grant: %v", err)
	}
}

// jwtClaims decodes the payload of a compact JWS (already verified by the
// checks that matter in each test).
func jwtClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	if err != nil || json.Unmarshal(raw, &claims) != nil {
		t.Fatalf("JWT payload: %v", err)
	}
	return claims
}
