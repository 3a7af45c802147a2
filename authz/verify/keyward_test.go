package verify_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/authz/verify"
	"github.com/keyward/keyward/authz/verify/internal/keywardtest"
	"github.com/keyward/keyward/keys"
)

// TestMiddlewaresAgainstKeyward runs the typed introspection, the token
// middleware WithIntrospection and the API-key middleware against a real
// Keyward server in process.
func TestMiddlewaresAgainstKeyward(t *testing.T) {
	ctx := context.Background()
	srv := keywardtest.Start(t)
	id, secret := srv.NewClient(t, []string{"read", "write"}, []string{"https://api.example"})
	var clk clock
	v := newVerifier(t, srv, verify.Config{Audience: "https://api.example", ClientID: id, ClientSecret: secret, Now: clk.Now})
	serve := func(h http.Handler, header, value string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set(header, value)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})

	tok := srv.Token(t, id, secret, "read", "https://api.example")
	info, err := v.IntrospectToken(ctx, tok)
	if err != nil || !info.Active || info.ClientID != id || !slices.Equal(info.Scopes, []string{"read"}) ||
		info.TokenType != "Bearer" || info.TokenUse != "access_token" || !slices.Equal(info.Audience, []string{"https://api.example"}) ||
		time.Until(info.ExpiresAt) < 50*time.Minute || info.JTI == "" || info.Issuer != srv.URL {
		t.Fatalf("introspection: %v %+v", err, info)
	}
	guarded := verify.Middleware(v, verify.WithScopes("read"), verify.WithIntrospection())(ok)
	if w := serve(guarded, "Authorization", "Bearer "+tok); w.Code != 200 {
		t.Fatalf("valid token: %d %s", w.Code, w.Body)
	}
	// Wrong audience, named as such (issue 15: the README's example).
	plainID, plainSecret := srv.NewClient(t, []string{"read"}, nil) // the quick start's client: aud is itself
	plain := srv.Token(t, plainID, plainSecret, "read", "")
	if w := serve(guarded, "Authorization", "Bearer "+plain); w.Code != 401 ||
		!strings.Contains(w.Header().Get("WWW-Authenticate"), "meant for another audience") {
		t.Fatalf("wrong audience: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	// Revoked at Keyward (RFC 7009): refused at once.
	form := url.Values{"token": {tok}}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/oauth2/revoke", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("revoke: %v %v", err, resp)
	}
	resp.Body.Close()
	if w := serve(guarded, "Authorization", "Bearer "+tok); w.Code != 401 ||
		w.Header().Get("WWW-Authenticate") != `Bearer error="invalid_token", error_description="The access token is not active."` {
		t.Fatalf("revoked token: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}

	// API keys through /v1/apikeys/verify, cached.
	k, err := verify.NewAPIKeys(v, verify.APIKeyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	rec, key, err := srv.APIKeys.Create(ctx, keys.CreateParams{Name: "mw", Scopes: []string{"orders:read"}})
	if err != nil {
		t.Fatal(err)
	}
	limitedRec, limited, err := srv.APIKeys.Create(ctx, keys.CreateParams{Name: "limited", Scopes: []string{"orders:read"},
		RateLimit: keys.RateLimit{Limit: 2, Period: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	mw := verify.RequireAPIKey(k, "orders:read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(verify.APIKeyFromContext(r.Context()).KeyID))
	}))
	for range 3 {
		if w := serve(mw, "X-API-Key", key); w.Code != 200 || w.Body.String() != rec.ID {
			t.Fatalf("valid key: %d %s", w.Code, w.Body)
		}
	}
	if w := serve(mw, "Authorization", "Bearer "+tok); w.Code != 401 {
		t.Fatalf("a JWT as an API key: %d", w.Code)
	}
	for n := range 3 {
		w := serve(mw, "X-API-Key", limited)
		if want := []int{200, 200, 429}[n]; w.Code != want || (w.Code == 200 && w.Body.String() != limitedRec.ID) {
			t.Fatalf("limited key, call %d: %d, want %d", n, w.Code, want)
		}
	}
	if err := srv.APIKeys.Revoke(ctx, rec.ID); err != nil {
		t.Fatal(err)
	}
	if w := serve(mw, "X-API-Key", key); w.Code != 200 {
		t.Fatalf("revoked key within the cache TTL: %d", w.Code)
	}
	clk.Advance(verify.DefaultAPIKeyCacheTTL)
	if w := serve(mw, "X-API-Key", key); w.Code != 401 ||
		w.Header().Get("WWW-Authenticate") != `Bearer error="invalid_token", error_description="The API key was revoked."` {
		t.Fatalf("revoked key after the TTL: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	var se *verify.ServerError
	vBad := newVerifier(t, srv, verify.Config{ClientID: id, ClientSecret: "wrong"})
	kBad, _ := verify.NewAPIKeys(vBad, verify.APIKeyConfig{})
	if _, err := kBad.Verify(ctx, limited); !errors.As(err, &se) || se.Code != "invalid_client" {
		t.Fatalf("wrong client secret: %v", err)
	}
}
