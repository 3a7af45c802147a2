// Package keywardtest runs a real Keyward server in process for the tests
// of package verify and ginverify. It is test support only: it imports the
// whole server, which verify itself must never do.
package keywardtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/keyward/keyward/authz"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/sqlite"
)

// Server is a Keyward server behind an httptest.Server; its issuer is URL.
type Server struct {
	URL     string
	Sig     *signing.Service
	APIKeys *keys.Service
	Clients *authz.Clients
	// JWKSRequests counts requests to the JWKS.
	JWKSRequests atomic.Int64
}

// Start builds the server (SQLite in t.TempDir, quiet loggers, no token
// rate limit) and stops it when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ctx := context.Background()
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

	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "keyward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	secret := keys.Secret(hex.EncodeToString(raw))
	quiet := slog.New(slog.DiscardHandler)
	newID := func() string { return uuid.Must(uuid.NewV7()).String() }
	auditor := &store.Auditor{Store: db, NewID: newID, Now: func() time.Time { return time.Now().UTC() }}
	sig, err := signing.New(db, secret, db, signing.Config{Auditor: auditor, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := sig.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	apik, err := keys.New(keys.Config{Store: db, Secret: secret, Events: db, Auditor: auditor, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { apik.Close() })
	prov, err := authz.New(ctx, authz.Config{Issuer: hs.URL, Store: db, Events: db, Signer: sig,
		JWKS: sig.JWKSHandler(), IDTokenAlgs: sig.Algorithms(), Secret: secret, APIKeys: apik, Auditor: auditor,
		TokenRate: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prov.Close)
	s.Sig, s.APIKeys = sig, apik
	s.Clients = &authz.Clients{Store: db, Auditor: auditor, DigestKey: secret.Derive(keys.PurposeClientSecret),
		NewID: newID, Rand: rand.Reader, OnChange: prov.ClientChanged}

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
	cl, secret, err := s.Clients.Create(context.Background(), authz.ClientParams{Name: "rs-test",
		GrantTypes: []string{authz.GrantClientCredentials}, Scopes: scopes, Audience: audience})
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
	tok, err := s.Sig.Sign(context.Background(), alg, claims, header)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
