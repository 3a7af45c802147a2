package authz_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/authztest"
	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/keys"
)

// TestOutageAPIKeys: with the database gone, an API key the instance has
// cached is answered from the cache (valid, active, exchangeable), and one
// it has not is 503 with Retry-After at verification, introspection and
// token exchange: never NOT_FOUND, active:false or a 500.
func TestOutageAPIKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := authztest.New(t, authztest.Options{TokenRate: -1})
	cl, secret, err := st.Clients.Create(ctx, clients.Params{Name: "rs", Scopes: []string{"read"},
		GrantTypes: []string{clients.GrantClientCredentials, clients.GrantTokenExchange}})
	if err != nil {
		t.Fatal(err)
	}
	_, cached, err := st.APIKeys.Create(ctx, keys.CreateParams{Name: "cached", Scopes: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	_, uncached, err := st.APIKeys.Create(ctx, keys.CreateParams{Name: "uncached", Scopes: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	hs := serveProvider(t, st)

	post := func(path, contentType, body string) (int, http.Header, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, hs.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.SetBasicAuth(cl.ID, secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		return resp.StatusCode, resp.Header, m
	}
	verify := func(key string) (int, http.Header, map[string]any) {
		return post("/v1/apikeys/verify", "application/json", `{"key":"`+key+`"}`)
	}
	introspect := func(key string) (int, http.Header, map[string]any) {
		return post("/oauth2/introspect", "application/x-www-form-urlencoded", url.Values{"token": {key}}.Encode())
	}
	exchange := func(key string) (int, http.Header, map[string]any) {
		return post("/oauth2/token", "application/x-www-form-urlencoded", url.Values{
			"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
			"subject_token_type": {"urn:keyward:token-type:api_key"}, "subject_token": {key}}.Encode())
	}

	// Warm up: the client and the cached key are read once.
	if code, _, body := verify(cached); code != 200 || body["code"] != "VALID" {
		t.Fatalf("before the outage: %d %v", code, body)
	}
	st.DB.Close()

	if code, _, body := verify(cached); code != 200 || body["code"] != "VALID" {
		t.Errorf("verify a cached key during the outage: %d %v, want VALID", code, body)
	}
	if code, _, body := introspect(cached); code != 200 || body["active"] != true {
		t.Errorf("introspect a cached key during the outage: %d %v, want active", code, body)
	}
	if code, _, body := exchange(cached); code != 200 || body["access_token"] == nil {
		t.Errorf("exchange a cached key during the outage: %d %v, want a token", code, body)
	}
	for name, call := range map[string]func(string) (int, http.Header, map[string]any){
		"verify": verify, "introspect": introspect, "exchange": exchange,
	} {
		code, h, body := call(uncached)
		if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || body["error"] != "temporarily_unavailable" {
			t.Errorf("%s an uncached key during the outage: %d %v (Retry-After %q), want 503 temporarily_unavailable",
				name, code, body, h.Get("Retry-After"))
		}
	}
}

// TestOutagePages: with the database gone, a signed-in browser's logout
// page is 503 with Retry-After (its session cannot be read), not a 500
// and not the page of a signed-out browser.
func TestOutagePages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := authztest.New(t, authztest.Options{})
	if _, err := st.Users.Create(ctx, accounts.UserParams{Username: "alice", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	hs := serveProvider(t, st)
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(method, path string, form url.Values) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, hs.URL+path, strings.NewReader(form.Encode()))
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	page, err := browser.Get(hs.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf_token on the login page:\n%s", body)
	}
	login := send(http.MethodPost, "/login", url.Values{"csrf_token": {string(m[1])}, "username": {"alice"},
		"password": {"correct horse battery"}})
	if login.StatusCode != http.StatusOK {
		t.Fatalf("login: %d", login.StatusCode)
	}
	if resp := send(http.MethodGet, "/oauth2/logout", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("logout page before the outage: %d", resp.StatusCode)
	}

	st.DB.Close()
	resp := send(http.MethodGet, "/oauth2/logout", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("logout page during the outage: %d (Retry-After %q), want 503 with Retry-After",
			resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// serveProvider serves the stack's public endpoints on loopback.
func serveProvider(t *testing.T, st *authztest.Stack) *httptest.Server {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.ContextWithFallback = true
	st.Provider.Mount(r)
	hs := httptest.NewServer(r)
	t.Cleanup(hs.Close)
	return hs
}
