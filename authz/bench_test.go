package authz_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/authztest"
	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/sqlite"
)

// benchEnv is a provider on a real SQLite store, served in process.
type benchEnv struct {
	handler http.Handler
	clients *clients.Registry
	apikeys *keys.Service
	users   *accounts.Users
	db      *sqlite.DB
}

func newBenchEnv(tb testing.TB) *benchEnv {
	tb.Helper()
	st := authztest.New(tb, authztest.Options{Issuer: "http://127.0.0.1:8080", TokenRate: -1})
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	st.Provider.Mount(r)
	return &benchEnv{handler: r, clients: st.Clients, apikeys: st.APIKeys, users: st.Users, db: st.DB}
}

func (e *benchEnv) client(tb testing.TB, p clients.Params) (string, string) {
	tb.Helper()
	c, secret, err := e.clients.Create(context.Background(), p)
	if err != nil {
		tb.Fatal(err)
	}
	return c.ID, secret
}

// tokens mints n client-credentials access tokens (scope read) for the
// client id, failing the test or benchmark when one is refused.
func (e *benchEnv) tokens(tb testing.TB, id, secret string, n int) []string {
	tb.Helper()
	out := make([]string, n)
	for i := range out {
		w := e.post("/oauth2/token", id, secret, url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}})
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if json.Unmarshal(w.Body.Bytes(), &tok) != nil || tok.AccessToken == "" {
			tb.Fatalf("token: %d %s", w.Code, w.Body)
		}
		out[i] = tok.AccessToken
	}
	return out
}

func (e *benchEnv) post(path, id, secret string, form url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, req)
	return w
}

// BenchmarkClientCredentialsJWT measures the token endpoint issuing a JWT
// access token to an authenticated client: HMAC secret check, cached
// client, ES256 signature, no database write.
func BenchmarkClientCredentialsJWT(b *testing.B) {
	e := newBenchEnv(b)
	id, secret := e.client(b, clients.Params{Name: "bench", Scopes: []string{"read"}})
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}
	if w := e.post("/oauth2/token", id, secret, form); w.Code != 200 {
		b.Fatalf("token: %d %s", w.Code, w.Body)
	}
	parallelOK(b, "token", func() *httptest.ResponseRecorder { return e.post("/oauth2/token", id, secret, form) })
}

// BenchmarkIntrospectJWT measures introspection of a JWT access token:
// client authentication, signature check, revocation-list lookup.
func BenchmarkIntrospectJWT(b *testing.B) { benchIntrospect(b, false) }

// BenchmarkIntrospectJWTWhileThrottling is BenchmarkIntrospectJWT while
// another address is held back for failed client authentication, so each
// successful authentication takes the throttle's slow path.
func BenchmarkIntrospectJWTWhileThrottling(b *testing.B) { benchIntrospect(b, true) }

func benchIntrospect(b *testing.B, throttling bool) {
	e := newBenchEnv(b)
	id, secret := e.client(b, clients.Params{Name: "bench", Scopes: []string{"read"}})
	w := e.post("/oauth2/token", id, secret, url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}})
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	json.Unmarshal(w.Body.Bytes(), &tok)
	form := url.Values{"token": {tok.AccessToken}}
	if w := e.post("/oauth2/introspect", id, secret, form); w.Code != 200 || !strings.Contains(w.Body.String(), `"active":true`) {
		b.Fatalf("introspect: %d %s", w.Code, w.Body)
	}
	for throttling {
		req := httptest.NewRequest(http.MethodPost, "/oauth2/introspect", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", "203.0.113.9")
		req.SetBasicAuth(id, "wrong")
		w := httptest.NewRecorder()
		e.handler.ServeHTTP(w, req)
		throttling = w.Code != http.StatusTooManyRequests
	}
	parallelOK(b, "introspect", func() *httptest.ResponseRecorder { return e.post("/oauth2/introspect", id, secret, form) })
}

// BenchmarkVerifyAPIKeyEndpoint measures POST /v1/apikeys/verify for a
// cached key.
func BenchmarkVerifyAPIKeyEndpoint(b *testing.B) {
	e := newBenchEnv(b)
	id, secret := e.client(b, clients.Params{Name: "rs"})
	_, raw, err := e.apikeys.Create(context.Background(), keys.CreateParams{Name: "k", Scopes: []string{"read"}})
	if err != nil {
		b.Fatal(err)
	}
	body := `{"key":"` + raw + `","required_scope":"read"}`
	do := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/v1/apikeys/verify", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(id, secret)
		w := httptest.NewRecorder()
		e.handler.ServeHTTP(w, req)
		return w
	}
	if w := do(); w.Code != 200 || !strings.Contains(w.Body.String(), `"VALID"`) {
		b.Fatalf("verify: %d %s", w.Code, w.Body)
	}
	parallelOK(b, "verify", do)
}

// TestClientCredentialsWritesNothing: issuing client-credentials JWTs does
// not write to the database (DESIGN.md: stateless), yet revoking one still
// works through the jti list.
func TestClientCredentialsWritesNothing(t *testing.T) {
	e := newBenchEnv(t)
	id, secret := e.client(t, clients.Params{Name: "m2m", Scopes: []string{"read"}})
	var last string
	for range 10 {
		w := e.post("/oauth2/token", id, secret, url.Values{"grant_type": {"client_credentials"}})
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &tok) != nil {
			t.Fatalf("token: %d %s", w.Code, w.Body)
		}
		last = tok.AccessToken
	}
	var n int
	if err := e.db.SQL().QueryRow(`SELECT count(*) FROM oauth_tokens`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows written for client-credentials tokens (%v)", n, err)
	}
	if w := e.post("/oauth2/revoke", id, secret, url.Values{"token": {last}}); w.Code != 200 {
		t.Fatalf("revoke: %d", w.Code)
	}
	if w := e.post("/oauth2/introspect", id, secret, url.Values{"token": {last}}); w.Body.String() != `{"active":false}` {
		t.Fatalf("revoked token introspects %s", w.Body)
	}
}

// BenchmarkIntrospectOpaqueMiss measures introspection of opaque access
// tokens that are not cached: each iteration introspects a token not
// introspected before (one record read, decoded, its answer built and
// cached). Run it with -benchtime Nx, N at most opaqueMissTokens.
func BenchmarkIntrospectOpaqueMiss(b *testing.B) {
	const opaqueMissTokens = 20_000
	if b.N > opaqueMissTokens {
		b.Skipf("-benchtime %dx: at most %d tokens", b.N, opaqueMissTokens)
	}
	st := authztest.New(b, authztest.Options{Issuer: "http://127.0.0.1:8080", TokenRate: -1})
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	st.Provider.Mount(r)
	e := &benchEnv{handler: r, clients: st.Clients, apikeys: st.APIKeys, db: st.DB}
	id, secret := e.client(b, clients.Params{Name: "bench", Scopes: []string{"read"}})
	oid, _ := e.client(b, clients.Params{Name: "opaque", Scopes: []string{"read"}, AccessTokenFormat: "opaque"})
	ctx := context.Background()
	forms := make([]string, 0, b.N)
	var changes []store.TokenChange
	err := st.Provider.MintOpaqueTokens(ctx, oid, []string{"read"}, time.Hour, b.N, func(tok string, rec *store.TokenRecord) error {
		forms = append(forms, url.Values{"token": {tok}}.Encode())
		changes = append(changes, store.TokenChange{Create: rec})
		return nil
	})
	if err == nil {
		err = st.DB.ApplyTokenChanges(ctx, changes)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		req := httptest.NewRequest(http.MethodPost, "/oauth2/introspect", strings.NewReader(forms[i]))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(id, secret)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		if w.Code != 200 || !strings.Contains(w.Body.String(), `"active":true`) {
			b.Fatalf("introspect: %d %s", w.Code, w.Body)
		}
	}
}

// BenchmarkIntrospectJWTFresh measures introspection of JWT access tokens
// never introspected before: client authentication, one ES256
// verification, the claims, the revocation list, the answer. The tokens
// are minted before the timer starts.
func BenchmarkIntrospectJWTFresh(b *testing.B) {
	e := newBenchEnv(b)
	id, secret := e.client(b, clients.Params{Name: "bench", Scopes: []string{"read"}})
	forms := make([]url.Values, b.N)
	for i, tok := range e.tokens(b, id, secret, b.N) {
		forms[i] = url.Values{"token": {tok}}
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			form := forms[next.Add(1)-1]
			if w := e.post("/oauth2/introspect", id, secret, form); w.Code != 200 || !strings.Contains(w.Body.String(), `"active":true`) {
				b.Fatalf("introspect: %d %s", w.Code, w.Body)
			}
		}
	})
}

// BenchmarkIntrospectAPIKey measures introspection of a cached API key.
func BenchmarkIntrospectAPIKey(b *testing.B) {
	e := newBenchEnv(b)
	id, secret := e.client(b, clients.Params{Name: "rs"})
	_, raw, err := e.apikeys.Create(context.Background(), keys.CreateParams{Name: "k", Scopes: []string{"read"}})
	if err != nil {
		b.Fatal(err)
	}
	form := url.Values{"token": {raw}}
	if w := e.post("/oauth2/introspect", id, secret, form); w.Code != 200 || !strings.Contains(w.Body.String(), `"active":true`) {
		b.Fatalf("introspect: %d %s", w.Code, w.Body)
	}
	parallelOK(b, "introspect", func() *httptest.ResponseRecorder { return e.post("/oauth2/introspect", id, secret, form) })
}

// parallelOK runs do in parallel as the benchmark's timed work, with
// allocations reported, and fails on any answer but 200.
func parallelOK(b *testing.B, what string, do func() *httptest.ResponseRecorder) {
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if w := do(); w.Code != 200 {
				b.Fatalf("%s: %d %s", what, w.Code, w.Body)
			}
		}
	})
}
