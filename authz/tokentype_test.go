package authz_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz"
	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/authztest"
	"github.com/keyward/keyward/authz/clients"
)

// TestTokenType: a JWT signed by this server's keys is an access token
// only with typ at+jwt (RFC 9068 §4), so an ID token, or anything else the
// same keys sign, is refused by introspection, UserInfo and the admin API;
// and id_token_hint takes only ID tokens, never an access token.
func TestTokenType(t *testing.T) {
	const issuer = "http://127.0.0.1:8080"
	st := authztest.New(t, authztest.Options{Issuer: issuer, TokenRate: -1})
	gin.SetMode(gin.ReleaseMode)
	engine := gin.New()
	st.Provider.Mount(engine)
	srv := httptest.NewServer(engine)
	t.Cleanup(srv.Close)
	ctx := context.Background()
	rs, rsSecret, err := st.Clients.Create(ctx, clients.Params{Name: "rs", Scopes: []string{"openid"}})
	if err != nil {
		t.Fatal(err)
	}
	user, err := st.Users.Create(ctx, accounts.UserParams{Username: "alice", Password: "alice-password-1"})
	if err != nil {
		t.Fatal(err)
	}
	rp, _, err := st.Clients.Create(ctx, clients.Params{Name: "rp", GrantTypes: []string{clients.GrantAuthorizationCode},
		Scopes: []string{"openid"}, RedirectURIs: []string{"https://rp.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}

	now := time.Now()
	sign := func(t *testing.T, alg string, header map[string]any, claims map[string]any) string {
		t.Helper()
		tok, err := st.Signing.SignClaims(ctx, alg, claims, header)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	// access has every claim of an RFC 9068 access token of alice.
	access := func() map[string]any {
		return map[string]any{"iss": issuer, "sub": user.ID, "aud": []string{rp.ID}, "exp": now.Add(time.Hour).Unix(),
			"iat": now.Unix(), "nbf": now.Unix(), "jti": rand.Text(), "client_id": rp.ID, "scope": "openid"}
	}
	// idToken has the claims of an ID token of alice for rp.
	idToken := func() map[string]any {
		return map[string]any{"iss": issuer, "sub": user.ID, "aud": []string{rp.ID}, "exp": now.Add(time.Hour).Unix(),
			"iat": now.Unix(), "auth_time": now.Unix(), "jti": rand.Text(), "nonce": "n"}
	}
	post := func(t *testing.T, path string, form url.Values, id, secret string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if id != "" {
			req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	active := func(t *testing.T, token string) bool {
		t.Helper()
		resp := post(t, authz.PathIntrospect, url.Values{"token": {token}}, rs.ID, rsSecret)
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("introspect: %d %v", resp.StatusCode, err)
		}
		return out["active"] == true
	}
	userinfo := func(t *testing.T, token string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+authz.PathUserinfo, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	t.Run("access tokens", func(t *testing.T) {
		for _, typ := range []string{"at+jwt", "application/at+jwt", "AT+JWT"} {
			tok := sign(t, authz.AccessTokenAlg, map[string]any{"typ": typ}, access())
			if _, err := st.Provider.VerifyAccessToken(ctx, tok); err != nil {
				t.Errorf("typ %q: VerifyAccessToken: %v", typ, err)
			}
			if !active(t, tok) {
				t.Errorf("typ %q: introspection inactive", typ)
			}
			if code := userinfo(t, tok); code != http.StatusOK {
				t.Errorf("typ %q: UserInfo %d", typ, code)
			}
		}
	})

	t.Run("not access tokens", func(t *testing.T) {
		for name, tok := range map[string]string{
			"access claims, typ JWT":      sign(t, authz.AccessTokenAlg, map[string]any{"typ": "JWT"}, access()),
			"access claims, no typ":       sign(t, authz.AccessTokenAlg, nil, access()),
			"access claims, typ id+jwt":   sign(t, authz.AccessTokenAlg, map[string]any{"typ": "id_token+jwt"}, access()),
			"ES256 ID token":              sign(t, "ES256", map[string]any{"typ": "JWT"}, idToken()),
			"ID token with access claims": sign(t, "ES256", map[string]any{"typ": "JWT"}, mergeClaims(idToken(), access())),
		} {
			if _, err := st.Provider.VerifyAccessToken(ctx, tok); !errors.Is(err, authz.ErrInvalidToken) {
				t.Errorf("%s: VerifyAccessToken = %v, want ErrInvalidToken", name, err)
			}
			if active(t, tok) {
				t.Errorf("%s: introspection active", name)
			}
			if code := userinfo(t, tok); code != http.StatusUnauthorized {
				t.Errorf("%s: UserInfo %d, want 401", name, code)
			}
		}
	})

	t.Run("id_token_hint", func(t *testing.T) {
		for name, tc := range map[string]struct {
			token string
			want  int
		}{
			"ID token":                   {sign(t, authz.DefaultIDTokenAlg, map[string]any{"typ": "JWT"}, idToken()), http.StatusOK},
			"ID token without typ":       {sign(t, authz.DefaultIDTokenAlg, nil, idToken()), http.StatusOK},
			"access token":               {sign(t, authz.AccessTokenAlg, map[string]any{"typ": "at+jwt"}, access()), http.StatusBadRequest},
			"access token, RS256":        {sign(t, authz.DefaultIDTokenAlg, map[string]any{"typ": "at+jwt"}, access()), http.StatusBadRequest},
			"ID token without sub":       {sign(t, authz.DefaultIDTokenAlg, nil, without(idToken(), "sub")), http.StatusBadRequest},
			"ID token without iat":       {sign(t, authz.DefaultIDTokenAlg, nil, without(idToken(), "iat")), http.StatusBadRequest},
			"ID token of another issuer": {sign(t, authz.DefaultIDTokenAlg, nil, mergeClaims(idToken(), map[string]any{"iss": "https://other.example"})), http.StatusBadRequest},
		} {
			resp, err := http.Get(srv.URL + authz.PathEndSession + "?" + url.Values{"id_token_hint": {tc.token}}.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("%s: logout %d, want %d", name, resp.StatusCode, tc.want)
			}
		}
	})
}

func mergeClaims(a, b map[string]any) map[string]any {
	for k, v := range b {
		a[k] = v
	}
	return a
}

func without(m map[string]any, k string) map[string]any {
	delete(m, k)
	return m
}
