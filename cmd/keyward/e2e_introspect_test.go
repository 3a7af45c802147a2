package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"
)

func TestE2EIntrospectionAndRevocation(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		var expiring struct {
			Key string `json:"key"`
		}
		e.runJSON(&expiring, "", "apikeys", "create", "--name", "short", "--scope", "read", "--expires-in", "1s")
		created := time.Now()
		var key struct {
			Key string `json:"key"`
		}
		e.runJSON(&key, "", "apikeys", "create", "--name", "long", "--scope", "read")
		svc := e.newClient("--name", "svc", "--grant-type", "client_credentials", "--scope", "read")
		other := e.newClient("--name", "other", "--grant-type", "client_credentials", "--scope", "read")
		opaque := e.newClient("--name", "opq", "--grant-type", "client_credentials", "--scope", "read", "--access-token-format", "opaque")
		a := newAuthCodeSetup(t, e)
		m := a.m
		ctx := context.Background()
		cc := func(c clientInfo) string {
			t.Helper()
			tok, err := (&clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, TokenURL: m.TokenEndpoint}).Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return tok.AccessToken
		}
		at := cc(svc)

		t.Run("client authentication", func(t *testing.T) {
			form := url.Values{"token": {at}}
			for _, tc := range []struct {
				name string
				req  func() *http.Request
			}{
				{"none", func() *http.Request { return formRequest(m.IntrospectionEndpoint, form) }},
				{"public client", func() *http.Request {
					return formRequest(m.IntrospectionEndpoint, url.Values{"token": {at}, "client_id": {a.public.ClientID}})
				}},
				{"public client basic", func() *http.Request {
					r := formRequest(m.IntrospectionEndpoint, form)
					r.SetBasicAuth(a.public.ClientID, "")
					return r
				}},
				{"wrong secret", func() *http.Request {
					r := formRequest(m.IntrospectionEndpoint, form)
					r.SetBasicAuth(svc.ClientID, "nope")
					return r
				}},
				{"unknown client", func() *http.Request {
					r := formRequest(m.IntrospectionEndpoint, form)
					r.SetBasicAuth("no-such-client", "nope")
					return r
				}},
			} {
				for _, path := range []string{m.IntrospectionEndpoint, m.RevocationEndpoint} {
					req := tc.req()
					req.URL, _ = url.Parse(path)
					r := do(t, req)
					if path == m.RevocationEndpoint && strings.HasPrefix(tc.name, "public") {
						// RFC 7009 §2.1: a public client may revoke its own
						// tokens, not another client's.
						if r.status != http.StatusBadRequest || r.str("error") != "unauthorized_client" {
							t.Errorf("%s at %s: %d %s; want 400 unauthorized_client", tc.name, req.URL.Path, r.status, r.raw)
						}
						continue
					}
					if r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" {
						t.Errorf("%s at %s: %d %s; want 401 invalid_client", tc.name, req.URL.Path, r.status, r.raw)
					}
				}
			}
			wantActive(t, "token after refused revocations", introspect(t, m, other, at))
			// client_secret_post works as well as basic.
			r := postForm(t, m.IntrospectionEndpoint, url.Values{"token": {at}, "client_id": {other.ClientID},
				"client_secret": {other.ClientSecret}}, "", "")
			if r.status != 200 || r.json["active"] != true {
				t.Errorf("client_secret_post: %d %s", r.status, r.raw)
			}
		})

		t.Run("active tokens", func(t *testing.T) {
			in := introspect(t, m, other, at)
			wantActive(t, "JWT access token", in)
			for _, k := range []string{"scope", "client_id", "sub", "exp", "iat", "iss", "token_type"} {
				if _, ok := in.json[k]; !ok {
					t.Errorf("JWT introspection lacks %q: %s", k, in.raw)
				}
			}
			if aud, _ := in.json["aud"].([]any); len(aud) == 0 {
				t.Errorf("JWT introspection without aud: %s", in.raw)
			}
			// A token without an audience has no aud member, not "aud":[].
			op := introspect(t, m, other, cc(opaque))
			wantActive(t, "opaque access token", op)
			if _, ok := op.json["aud"]; ok {
				t.Errorf("opaque access token of a client without audience: %s; want no aud", op.raw)
			}
			tok, _, _, _ := newRP(t, a.s, a.conf, "openid", "profile").codeFlow(t, newBrowser(t, a.s), a.s, a.alice)
			wantActive(t, "user access token", introspect(t, m, other, tok.AccessToken))
			rt := introspect(t, m, other, tok.RefreshToken)
			wantActive(t, "refresh token", rt)
			if rt.str("sub") != a.alice.ID || rt.str("client_id") != a.conf.ClientID {
				t.Errorf("refresh token introspection: %s", rt.raw)
			}
			if _, ok := rt.json["aud"]; ok {
				t.Errorf("refresh token of a grant without audience: %s; want no aud", rt.raw)
			}
			api := introspect(t, m, other, key.Key)
			wantActive(t, "API key", api)
			if api.str("token_type") != "api_key" || api.str("scope") != "read" || api.str("sub") == "" {
				t.Errorf("API key introspection: %s", api.raw)
			}
			// The key's creation time is not when its current secret was
			// issued (a roll keeps the id), so there is no iat.
			if _, ok := api.json["iat"]; ok {
				t.Errorf("API key introspection has iat: %s", api.raw)
			}
		})

		t.Run("inactive tokens", func(t *testing.T) {
			parts := strings.Split(at, ".")
			tampered := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
			for name, tok := range map[string]string{
				"unknown":            "not-a-token",
				"unknown opaque":     "kw_at_" + randString(t, 32) + "." + randString(t, 32),
				"unknown refresh":    "kw_rt_" + randString(t, 32) + "." + randString(t, 32),
				"unknown API key":    strings.Replace(key.Key, key.Key[len(key.Key)-8:], "AAAAAAAA", 1),
				"tampered JWT":       tampered,
				"garbage JWT":        "a.b.c",
				"authorization code": "kw_ac_" + randString(t, 32) + "." + randString(t, 32),
			} {
				wantInactive(t, name, introspect(t, m, other, tok))
			}
			time.Sleep(time.Until(created.Add(1500 * time.Millisecond)))
			wantInactive(t, "expired API key", introspect(t, m, other, expiring.Key))
		})

		t.Run("revoke JWT access token", func(t *testing.T) {
			tok := cc(svc)
			// Another client may not revoke it.
			r := postForm(t, m.RevocationEndpoint, url.Values{"token": {tok}}, other.ClientID, other.ClientSecret)
			if r.status == http.StatusOK && introspect(t, m, other, tok).json["active"] != true {
				t.Errorf("another client revoked the token")
			}
			r = postForm(t, m.RevocationEndpoint, url.Values{"token": {tok}, "token_type_hint": {"access_token"}}, svc.ClientID, svc.ClientSecret)
			if r.status != http.StatusOK {
				t.Fatalf("revoke: %d %s", r.status, r.raw)
			}
			wantInactive(t, "revoked JWT", introspect(t, m, other, tok))
			wantActive(t, "another JWT of the same client", introspect(t, m, other, at))
			// Revoking twice is fine.
			if r := postForm(t, m.RevocationEndpoint, url.Values{"token": {tok}}, svc.ClientID, svc.ClientSecret); r.status != 200 {
				t.Errorf("second revocation: %d %s", r.status, r.raw)
			}
		})

		t.Run("revoke refresh token revokes the grant", func(t *testing.T) {
			r := newRP(t, a.s, a.conf, "openid", "profile")
			tok, _, _, _ := r.codeFlow(t, newBrowser(t, a.s), a.s, a.alice)
			tok2, err := r.refresh(tok.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			rv := postForm(t, m.RevocationEndpoint, url.Values{"token": {tok2.RefreshToken}, "token_type_hint": {"refresh_token"}},
				a.conf.ClientID, a.conf.ClientSecret)
			if rv.status != http.StatusOK {
				t.Fatalf("revoke: %d %s", rv.status, rv.raw)
			}
			wantInactive(t, "revoked refresh token", introspect(t, m, other, tok2.RefreshToken))
			wantInactive(t, "access token of the revoked grant", introspect(t, m, other, tok2.AccessToken))
			wantInactive(t, "first access token of the revoked grant", introspect(t, m, other, tok.AccessToken))
			if _, err := r.refresh(tok2.RefreshToken); err == nil {
				t.Errorf("a revoked refresh token still works")
			}
		})

		t.Run("revoke unknown token", func(t *testing.T) {
			for _, tok := range []string{"nothing", "kw_rt_x.y", "a.b.c", strings.Repeat("z", 5000)} {
				r := postForm(t, m.RevocationEndpoint, url.Values{"token": {tok}}, svc.ClientID, svc.ClientSecret)
				if r.status != http.StatusOK {
					t.Errorf("revoke %.20q: %d %s; want 200 (RFC 7009 §2.2)", tok, r.status, r.raw)
				}
			}
		})
	})
}

// formRequest is an unauthenticated form POST.
func formRequest(u string, form url.Values) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}
