// Package keywardtest runs a real Keyward server in process for the tests
// of package verify and ginverify. It is test support only: it imports the
// whole server, which verify itself must never do.
package keywardtest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz"
	"github.com/keyward/keyward/authz/authztest"
	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/authz/resources"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
)

// Server is a Keyward server behind an httptest.Server; its issuer is URL.
type Server struct {
	URL     string
	Sig     *signing.Service
	APIKeys *keys.Service
	Clients *clients.Registry
	// Resources registers RFC 8707 resources.
	Resources *resources.Registry
	// JWKSRequests counts requests to the JWKS.
	JWKSRequests atomic.Int64
}

// Start builds the server (SQLite in t.TempDir, quiet loggers, no token
// rate limit) and stops it when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{}
	var handler atomic.Pointer[http.Handler]
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == authz.PathJWKS {
			s.JWKSRequests.Add(1)
		}
		(*handler.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	s.URL = hs.URL

	st := authztest.New(t, authztest.Options{Issuer: hs.URL, TokenRate: -1})
	s.Sig, s.APIKeys, s.Clients, s.Resources = st.Signing, st.APIKeys, st.Clients, st.Resources
	prov := st.Provider

	gin.SetMode(gin.TestMode)
	engine := gin.New()
	prov.Mount(engine)
	var h http.Handler = engine
	handler.Store(&h)
	return s
}

// NewClient creates a confidential client-credentials client allowed
// scopes and audience; it returns its id and secret.
func (s *Server) NewClient(t testing.TB, scopes, audience []string) (id, secret string) {
	t.Helper()
	cl, secret, err := s.Clients.Create(context.Background(), clients.Params{Name: "rs-test",
		GrantTypes: []string{clients.GrantClientCredentials}, Scopes: scopes, Audience: audience})
	if err != nil {
		t.Fatal(err)
	}
	return cl.ID, secret
}

// Token gets a client-credentials access token from the token endpoint;
// audience may be empty.
func (s *Server) Token(t testing.TB, id, secret, scope, audience string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}
	if audience != "" {
		form.Set("audience", audience)
	}
	return s.token(t, id, secret, form)
}

// ResourceToken gets a client-credentials access token for the RFC 8707
// resources (registered with Resources).
func (s *Server) ResourceToken(t testing.TB, id, secret, scope string, resources ...string) string {
	t.Helper()
	return s.token(t, id, secret, url.Values{"grant_type": {"client_credentials"}, "scope": {scope}, "resource": resources})
}

func (s *Server) token(t testing.TB, id, secret string, form url.Values) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+authz.PathToken, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	tok, _ := body["access_token"].(string)
	if resp.StatusCode != http.StatusOK || tok == "" {
		t.Fatalf("token endpoint: HTTP %d %v", resp.StatusCode, body)
	}
	return tok
}

// Sign signs claims with the server's active key for alg ("" for the
// default), with header members added: tokens the server never issued
// but its keys did sign.
func (s *Server) Sign(t testing.TB, alg string, claims, header map[string]any) string {
	t.Helper()
	if alg == "" {
		alg = authz.AccessTokenAlg
	}
	tok, err := s.Sig.SignClaims(context.Background(), alg, claims, header)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
