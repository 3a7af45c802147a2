package authz_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz"
	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/authztest"
	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/keys"
)

// recorder is an Observer that counts calls as "method label label…" and
// fails the test on a label value outside the documented sets.
type recorder struct {
	t  *testing.T
	mu sync.Mutex
	n  map[string]int
}

func newRecorder(t *testing.T) *recorder { return &recorder{t: t, n: map[string]int{}} }

func (r *recorder) add(set [][]string, parts ...string) {
	for i, v := range parts[1:] {
		if !slices.Contains(set[i], v) {
			r.t.Errorf("%s: label value %q is not in %v", parts[0], v, set[i])
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n[strings.Join(parts, " ")]++
}

func (r *recorder) count(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[key]
}

func (r *recorder) TokenIssued(g string) { r.add([][]string{authz.Grants}, "issued", g) }
func (r *recorder) TokenRefused(g, e string) {
	r.add([][]string{authz.Grants, authz.TokenErrors}, "refused", g, e)
}
func (r *recorder) Introspected(typ, res string) {
	r.add([][]string{authz.TokenTypes, authz.IntrospectionResults}, "introspected", typ, res)
}
func (r *recorder) RateLimited(l string) { r.add([][]string{authz.Limiters}, "limited", l) }
func (r *recorder) Login(s, o string) {
	r.add([][]string{{authz.SurfaceLoginPage}, accounts.LoginOutcomes}, "login", s, o)
}
func (r *recorder) CacheLookup(c string, hit bool) {
	res := "miss"
	if hit {
		res = "hit"
	}
	r.add([][]string{authz.Caches, {"hit", "miss"}}, "cache", c, res)
}

var _ authz.Observer = (*recorder)(nil)

// post sends a form to the test server with HTTP Basic client
// authentication from address ip, and returns the status and the JSON body.
func (s *testServer) postAs(ip, path, id, secret string, form url.Values) (int, map[string]any) {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", ip)
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// TestObserver runs the token, introspection and login endpoints through
// successes, refusals and limits, and checks what the Observer was told,
// each label value from the documented sets.
func TestObserver(t *testing.T) {
	obs := newRecorder(t)
	s := newTestServer(t, authztest.Options{Observer: obs, TokenRate: 2})
	id, secret := s.client(clients.Params{Name: "m2m", Scopes: []string{"read"}})
	cc := url.Values{"grant_type": {"client_credentials"}}

	status, tok := s.postAs("192.0.2.1", "/oauth2/token", id, secret, cc)
	if status != 200 {
		t.Fatalf("token: %d %v", status, tok)
	}
	jwt, _ := tok["access_token"].(string)
	if status, _ := s.postAs("192.0.2.2", "/oauth2/token", id, secret, url.Values{"grant_type": {"password"}}); status != 400 {
		t.Fatalf("password grant: %d", status)
	}
	if status, _ := s.postAs("192.0.2.3", "/oauth2/token", id, secret,
		url.Values{"grant_type": {"authorization_code"}, "code": {"made-up"}, "redirect_uri": {"https://app.example/cb"}}); status != 400 {
		t.Fatalf("made-up code: %d", status)
	}
	// TokenRate 2 (burst 4): soon over the limit.
	for i := 0; i < 20 && obs.count("limited token_endpoint") == 0; i++ {
		s.postAs("192.0.2.4", "/oauth2/token", id, secret, cc)
	}
	if obs.count("issued client_credentials") == 0 || obs.count("refused other unsupported_grant_type") != 1 ||
		obs.count("refused authorization_code unauthorized_client") != 1 || obs.count("refused client_credentials slow_down") != 1 ||
		obs.count("limited token_endpoint") != 1 {
		t.Errorf("token endpoint: %v", obs.n)
	}

	// Wrong secrets from one address: invalid_client, then the throttle
	// of failed client authentication.
	s.postAs("198.51.100.6", "/oauth2/token", id, "wrong", cc)
	for i := 0; i < 30 && obs.count("limited client_auth") == 0; i++ {
		s.postAs("198.51.100.7", "/oauth2/introspect", id, "wrong", url.Values{"token": {"x"}})
	}
	if obs.count("refused client_credentials invalid_client") != 1 || obs.count("limited client_auth") != 1 {
		t.Errorf("failed client authentication: %v", obs.n)
	}

	_, apiKey, err := s.st.APIKeys.Create(context.Background(), keys.CreateParams{Name: "k", Scopes: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ token, want string }{
		{jwt, "introspected access_token active"},
		{jwt, "introspected access_token active"},
		{"not-a-token", "introspected unknown inactive"},
		{apiKey, "introspected api_key active"},
		{apiKey + "x", "introspected api_key inactive"},
	} {
		before := obs.count(tc.want)
		if status, body := s.postAs("192.0.2.5", "/oauth2/introspect", id, secret, url.Values{"token": {tc.token}}); status != 200 {
			t.Fatalf("introspect: %d %v", status, body)
		}
		if obs.count(tc.want) != before+1 {
			t.Errorf("introspecting %.12s…: no %q in %v", tc.token, tc.want, obs.n)
		}
	}
	if obs.count("cache jwt_verify hit") == 0 || obs.count("cache clients hit") == 0 || obs.count("cache clients miss") == 0 {
		t.Errorf("cache lookups: %v", obs.n)
	}

	s.user("alice", "correct horse battery")
	b := s.browser("203.0.113.5")
	if a := b.login("alice", "correct horse battery"); a.status >= 400 {
		t.Fatalf("login: %d", a.status)
	}
	for i := 0; i < 10 && obs.count("login login_page locked_out") == 0; i++ {
		b.login("alice", "wrong")
	}
	if obs.count("login login_page success") != 1 || obs.count("login login_page failure") == 0 ||
		obs.count("login login_page locked_out") != 1 || obs.count("limited login") != 1 {
		t.Errorf("logins: %v", obs.n)
	}
}

// TestLogErrorKey: an error answer leaves its OAuth error code for the
// access log under LogErrorKey, a success none.
func TestLogErrorKey(t *testing.T) {
	st := authztest.New(t, authztest.Options{TokenRate: -1})
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	var code string
	var set bool
	r.Use(func(c *gin.Context) {
		c.Next()
		v, ok := c.Get(authz.LogErrorKey)
		code, _ = v.(string)
		set = ok
	})
	st.Provider.Mount(r)
	reg, secret, err := st.Clients.Create(context.Background(), clients.Params{Name: "m2m", Scopes: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, secret string
		form         url.Values
		want         string
	}{
		{"/oauth2/token", secret, url.Values{"grant_type": {"client_credentials"}}, ""},
		{"/oauth2/token", "wrong", url.Values{"grant_type": {"client_credentials"}}, "invalid_client"},
		{"/oauth2/token", secret, url.Values{"grant_type": {"client_credentials"}, "scope": {"write"}}, "invalid_scope"},
		{"/oauth2/token", secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}, "unauthorized_client"},
		{"/oauth2/introspect", secret, url.Values{}, "invalid_request"},
		{"/oauth2/introspect", secret, url.Values{"token": {"x"}}, ""},
	} {
		req := httptest.NewRequest(http.MethodPost, tc.path, strings.NewReader(tc.form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(reg.ID, tc.secret)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		if code != tc.want || set != (tc.want != "") {
			t.Errorf("%s %v: %s; logged error %q (set %v), want %q", tc.path, tc.form, w.Body, code, set, tc.want)
		}
	}
}
