package authz

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store/sqlite/sqlitetest"
)

// fuzzEnv is a provider on a real SQLite store, wired as cmd/keyward's
// app.go wires it, with one confidential client, one public client, and a
// signed-in browser session.
type fuzzEnv struct {
	handler    http.Handler
	conf, pub  string
	confSecret string
	session    *http.Cookie
	redirects  []string
}

const fuzzIssuer = "http://127.0.0.1:8080"

func newFuzzEnv(tb testing.TB) *fuzzEnv {
	tb.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	db := sqlitetest.Open(tb)
	secret := keys.Secret(strings.Repeat("f", 32))
	sig, err := signing.New(db, secret, db, signing.Config{Logger: quiet})
	if err != nil {
		tb.Fatal(err)
	}
	if err := sig.Bootstrap(ctx); err != nil {
		tb.Fatal(err)
	}
	ak, err := keys.New(keys.Config{Store: db, Secret: secret, Events: db, Logger: quiet})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ak.Close() })
	p, err := New(ctx, Config{Issuer: fuzzIssuer, Store: db, Events: db, Signer: sig, JWKS: sig.JWKSHandler(),
		IDTokenAlgs: sig.Algorithms(), Secret: secret, APIKeys: ak, TokenRate: -1, Logger: quiet})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Close)
	gin.SetMode(gin.ReleaseMode)
	r := gin.New() // no recovery: a panic fails the test
	p.Mount(r)

	var n atomic.Int64
	newID := func() string { return fmt.Sprintf("fuzz-%d", n.Add(1)) }
	reg, err := clients.New(clients.Config{Store: db, Hasher: clients.NewHasher(secret), NewID: newID, OnChange: p.ClientChanged})
	if err != nil {
		tb.Fatal(err)
	}
	e := &fuzzEnv{handler: r, redirects: []string{"http://127.0.0.1:9/cb", "https://app.example.com/cb", "com.example.app:/cb"}}
	conf, confSecret, err := reg.Create(ctx, clients.Params{Name: "conf", Scopes: []string{"openid", "profile", "read"},
		GrantTypes: []string{clients.GrantAuthorizationCode, clients.GrantRefreshToken, clients.GrantClientCredentials}, RedirectURIs: e.redirects,
		Audience: []string{"https://api.example.com"}, SkipConsent: true})
	if err != nil {
		tb.Fatal(err)
	}
	pub, _, err := reg.Create(ctx, clients.Params{Name: "pub", Public: true, Scopes: []string{"openid"},
		RedirectURIs: e.redirects})
	if err != nil {
		tb.Fatal(err)
	}
	e.conf, e.confSecret, e.pub = conf.ID, confSecret, pub.ID
	users, err := accounts.NewUsers(accounts.UsersConfig{Store: db, NewID: newID})
	if err != nil {
		tb.Fatal(err)
	}
	u, err := users.Create(ctx, accounts.UserParams{Username: "fuzzer", Password: "fuzzing password 123"})
	if err != nil {
		tb.Fatal(err)
	}
	w := httptest.NewRecorder()
	if err := p.browser.startSession(ctx, w, httptest.NewRequest(http.MethodGet, "/", nil), u); err != nil {
		tb.Fatal(err)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == sessionCookie {
			e.session = c
		}
	}
	if e.session == nil {
		tb.Fatal("no session cookie")
	}
	return e
}

// allowedRedirect reports whether loc is the login page or a registered
// redirect URI (a loopback one may differ in its port, RFC 8252 §7.3).
func (e *fuzzEnv) allowedRedirect(loc string) bool {
	if strings.HasPrefix(loc, "/login?") {
		return true
	}
	u, err := url.Parse(loc)
	if err != nil {
		return false
	}
	u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
	if slices.Contains(e.redirects, u.String()) {
		return true
	}
	if u.Scheme == "http" && u.Hostname() == "127.0.0.1" {
		u.Host = net.JoinHostPort("127.0.0.1", "9")
		return slices.Contains(e.redirects, u.String())
	}
	return false
}

// FuzzTokenForm posts arbitrary form bodies to the token endpoint, with
// and without the credentials of a real client: never a 5xx, never a panic.
func FuzzTokenForm(f *testing.F) {
	for _, seed := range []struct {
		body string
		auth bool
	}{
		{"grant_type=client_credentials&scope=read", true},
		{"grant_type=client_credentials&audience=https%3A%2F%2Fapi.example.com&audience=x", true},
		{"grant_type=authorization_code&code=kw_ac_x.y&code_verifier=abc&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb", true},
		{"grant_type=refresh_token&refresh_token=kw_rt_a.b&scope=openid", false},
		{"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&subject_token=kw_live_x&subject_token_type=urn%3Akeyward%3Atoken-type%3Aapi_key", true},
		{"grant_type=%ff&client_id=%00", false},
		{"client_id=fuzz-1&client_secret=x&grant_type=client_credentials&grant_type=x", true},
		{"%", false},
	} {
		f.Add(seed.body, seed.auth)
	}
	e := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, body string, auth bool) {
		req := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth {
			req.SetBasicAuth(e.conf, e.confSecret)
		}
		w := httptest.NewRecorder()
		e.handler.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("POST /oauth2/token %q: %d %s", body, w.Code, w.Body)
		}
		if w.Code >= 400 && !strings.Contains(w.Body.String(), `"error"`) {
			t.Fatalf("POST /oauth2/token %q: %d without an OAuth error: %s", body, w.Code, w.Body)
		}
	})
}

// FuzzAuthorizeQuery sends arbitrary query strings to the authorization
// endpoint, signed in or not: never a 5xx or a panic, and never a
// redirect anywhere but the login page or a registered redirect URI.
func FuzzAuthorizeQuery(f *testing.F) {
	e := newFuzzEnv(f)
	for _, seed := range []struct {
		query    string
		signedIn bool
	}{
		{"client_id=fuzz-1&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&scope=openid&state=abcdefghij&nonce=abcdefghij", true},
		{"client_id=fuzz-1&response_type=code&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&scope=openid&state=abcdefghij", true},
		{"client_id=fuzz-2&response_type=code&redirect_uri=com.example.app%3A%2Fcb&scope=openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256", true},
		{"client_id=fuzz-2&response_type=code&redirect_uri=javascript%3Aalert(1)", false},
		{"client_id=fuzz-1&response_type=code+id_token&response_mode=fragment&prompt=none&max_age=0", true},
		{"client_id=%ff&redirect_uri=%zz", false},
		{"client_id=fuzz-1&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A1234%2Fcb&scope=openid+read&state=abcdefghij&audience=https%3A%2F%2Fapi.example.com", true},
	} {
		f.Add(seed.query, seed.signedIn)
	}
	f.Fuzz(func(t *testing.T, query string, signedIn bool) {
		req := httptest.NewRequest(http.MethodGet, "/oauth2/auth", nil)
		req.URL.RawQuery = query
		if signedIn {
			req.AddCookie(e.session)
		}
		w := httptest.NewRecorder()
		e.handler.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("GET /oauth2/auth?%s: %d %s", query, w.Code, w.Body)
		}
		if loc := w.Header().Get("Location"); loc != "" && !e.allowedRedirect(loc) {
			t.Fatalf("GET /oauth2/auth?%s: redirect to unregistered %q", query, loc)
		}
	})
}
