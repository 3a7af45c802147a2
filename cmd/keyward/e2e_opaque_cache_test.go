package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/keyward/keyward/authz"
)

// TestE2EOpaqueIntrospectionCache: introspection answers of opaque tokens
// are cached, yet every way a token ends makes it inactive at once on the
// instance where it ended and within 5 seconds on another instance of the
// same database (each instance has introspected it, so both had it
// cached): RFC 7009 revocation on either instance, refresh-token rotation
// (the used refresh token), reuse of a rotated refresh token (the whole
// grant), a client
// disabled by the CLI, a user disabled through the admin API.
func TestE2EOpaqueIntrospectionCache(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		svc := e.newClient("--name", "svc", "--grant-type", "client_credentials", "--scope", "read",
			"--access-token-format", "opaque")
		doomed := e.newClient("--name", "doomed", "--grant-type", "client_credentials", "--scope", "read",
			"--access-token-format", "opaque")
		web := e.newClient("--name", "Opaque App", "--grant-type", "authorization_code", "--grant-type", "refresh_token",
			"--scope", "openid", "--redirect-uri", e2eRedirect, "--access-token-format", "opaque")
		rs := e.newClient("--name", "rs", "--grant-type", "client_credentials", "--scope", "read")
		ops := e.newClient("--name", "ops", "--scope", "keyward:admin")
		a := newAuthCodeSetup(t, e)
		other := e.serve("--issuer", a.s.PublicURL)
		servers := []*server{a.s, other}
		endpoint := func(s *server, path string) string { return s.PublicURL + path }
		introspectAt := func(s *server, tok string) reply {
			t.Helper()
			r := postForm(t, endpoint(s, "/oauth2/introspect"), url.Values{"token": {tok}}, rs.ClientID, rs.ClientSecret)
			if r.status != http.StatusOK {
				t.Fatalf("introspect: %d %s", r.status, r.raw)
			}
			return r
		}
		// cached introspects tok twice on each instance (the second answer
		// comes from the cache), wanting it active and the same each time.
		cached := func(what, tok string) {
			t.Helper()
			for _, s := range servers {
				first := introspectAt(s, tok)
				wantActive(t, what, first)
				if again := introspectAt(s, tok); again.raw != first.raw {
					t.Errorf("%s: the cached answer %s differs from the first %s", what, again.raw, first.raw)
				}
			}
		}
		// ended wants tok inactive at once on the instances in now and
		// within 5 seconds on the others.
		ended := func(what, tok string, now ...*server) {
			t.Helper()
			for _, s := range servers {
				if len(now) > 0 && s == now[0] {
					wantInactive(t, what+" (where it ended)", introspectAt(s, tok))
					continue
				}
				deadline := time.Now().Add(5 * time.Second)
				for {
					r := introspectAt(s, tok)
					if len(r.json) == 1 && r.json["active"] == false {
						break
					}
					if time.Now().After(deadline) {
						t.Errorf("%s: still %s on another instance after 5 s", what, r.raw)
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
		}
		ccToken := func(s *server, c clientInfo) string {
			t.Helper()
			tok, err := (&clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret,
				TokenURL: endpoint(s, "/oauth2/token")}).Token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(tok.AccessToken, "kw_at_") {
				t.Fatalf("want an opaque token, got %q", tok.AccessToken)
			}
			return tok.AccessToken
		}
		revokeAt := func(s *server, c clientInfo, tok string) {
			t.Helper()
			if r := postForm(t, endpoint(s, "/oauth2/revoke"), url.Values{"token": {tok}}, c.ClientID, c.ClientSecret); r.status != http.StatusOK {
				t.Fatalf("revoke: %d %s", r.status, r.raw)
			}
		}

		t.Run("revocation", func(t *testing.T) {
			for i, s := range servers {
				tok := ccToken(a.s, svc)
				cached("token", tok)
				revokeAt(s, svc, tok)
				ended([]string{"revoked on the first instance", "revoked on the second instance"}[i], tok, s)
			}
			wantActive(t, "a token issued after", introspectAt(other, ccToken(other, svc)))
		})

		t.Run("refresh rotation and reuse", func(t *testing.T) {
			ro := newRP(t, a.s, web, "openid")
			tok0, _, _, _ := ro.codeFlow(t, newBrowser(t, a.s), a.s, a.alice)
			cached("access token", tok0.AccessToken)
			cached("refresh token", tok0.RefreshToken)
			tok1, err := ro.refresh(tok0.RefreshToken)
			if err != nil {
				t.Fatal(err)
			}
			// The access token issued with a rotated refresh token lives on
			// (fosite's rotation keeps it); the refresh token ends.
			ended("rotated refresh token", tok0.RefreshToken, a.s)
			cached("access token issued with a rotated refresh token", tok0.AccessToken)
			cached("new access token", tok1.AccessToken)
			cached("new refresh token", tok1.RefreshToken)
			if _, err := ro.refresh(tok0.RefreshToken); retrieveError(t, err) != "invalid_grant" {
				t.Fatalf("reuse of a rotated refresh token: %v", err)
			}
			ended("access token of a grant revoked for reuse", tok1.AccessToken, a.s)
			ended("first access token of a grant revoked for reuse", tok0.AccessToken, a.s)
			ended("refresh token of a grant revoked for reuse", tok1.RefreshToken, a.s)
		})

		t.Run("consent revoked on the account page", func(t *testing.T) {
			ro := newRP(t, a.s, web, "openid")
			tok, _, _, _ := ro.codeFlow(t, newBrowser(t, a.s), a.s, a.alice)
			cached("access token", tok.AccessToken)
			cached("refresh token", tok.RefreshToken)
			b := newBrowser(t, a.s)
			p := b.login(b.get(a.s.PublicURL+authz.PathLogin+"?return_to="+url.QueryEscape(authz.PathAccount)), a.alice)
			if p = b.submit(p, formWithValue(t, p, "client_id", web.ClientID), nil); p.status != http.StatusOK {
				t.Fatalf("revoke the app: %d\n%.2000s", p.status, p.body)
			}
			ended("access token of a revoked consent", tok.AccessToken, a.s)
			ended("refresh token of a revoked consent", tok.RefreshToken, a.s)
		})

		t.Run("client disabled", func(t *testing.T) {
			tok := ccToken(a.s, doomed)
			cached("token", tok)
			e.runJSON(&struct{}{}, "", "clients", "disable", doomed.ClientID)
			ended("token of a client disabled by the CLI", tok)
		})

		t.Run("user disabled", func(t *testing.T) {
			ro := newRP(t, a.s, web, "openid")
			tok, _, _, _ := ro.codeFlow(t, newBrowser(t, a.s), a.s, a.bob)
			cached("access token", tok.AccessToken)
			cached("refresh token", tok.RefreshToken)
			if code := adminCall(t, a.s, ops, http.MethodPatch, "/users/"+a.bob.ID, map[string]any{"disabled": true}); code != http.StatusOK {
				t.Fatalf("disable bob: %d", code)
			}
			ended("disabled user's access token", tok.AccessToken, a.s)
			ended("disabled user's refresh token", tok.RefreshToken, a.s)
		})
	})
}
