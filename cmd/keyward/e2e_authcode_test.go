package main

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"golang.org/x/oauth2"
)

// authCodeSetup is a server with alice, bob and three browser clients.
type authCodeSetup struct {
	s                   *server
	m                   metadata
	alice, bob          testUser
	conf, public, skips clientInfo
}

func newAuthCodeSetup(t *testing.T, e *env, extra ...string) *authCodeSetup {
	t.Helper()
	const scope = "openid profile email"
	a := &authCodeSetup{
		alice: e.newUser("alice", "correct horse battery", "alice@example.com", "Alice Liddell"),
		bob:   e.newUser("bob", "another long password", "bob@example.com", "Bob"),
		conf: e.newClient("--name", "Web App", "--grant-type", "authorization_code", "--grant-type", "refresh_token",
			"--scope", scope, "--redirect-uri", e2eRedirect, "--redirect-uri", "https://app.example.com/cb"),
		public: e.newClient("--name", "SPA", "--public", "--scope", scope, "--redirect-uri", e2eRedirect),
		skips: e.newClient("--name", "First Party", "--grant-type", "authorization_code", "--scope", scope,
			"--redirect-uri", e2eRedirect, "--skip-consent"),
	}
	a.s = e.serve(extra...)
	a.m = discover(t, a.s)
	return a
}

// codeFlow runs a whole authorization as u and exchanges the code.
func (r *rp) codeFlow(t *testing.T, b *browser, s *server, u testUser) (*oauth2.Token, authRequest, bool, bool) {
	t.Helper()
	a := r.authRequest(t)
	q, login, consent := r.authorize(t, b, s, u, a)
	tok, err := r.cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(a.verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok, a, login, consent
}

// checkIDToken verifies the ID token with go-oidc and checks the nonce,
// subject and the profile and email claims through UserInfo.
func (r *rp) checkIDToken(t *testing.T, tok *oauth2.Token, a authRequest, u testUser) {
	t.Helper()
	ctx := context.Background()
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		t.Fatalf("no id_token for scope openid")
	}
	idt, err := r.verifier.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("go-oidc rejects the ID token: %v", err)
	}
	if idt.Nonce != a.nonce {
		t.Errorf("ID token nonce %q, want %q", idt.Nonce, a.nonce)
	}
	if idt.Subject != u.ID {
		t.Errorf("ID token sub %q, want %q", idt.Subject, u.ID)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil && idt.AccessTokenHash != "" {
		t.Errorf("at_hash: %v", err)
	}
	ui, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("UserInfo: %v", err)
	}
	var claims struct {
		Name              string `json:"name"`
		PreferredUsername string `json:"preferred_username"`
		Email             string `json:"email"`
	}
	if err := ui.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if ui.Subject != u.ID || ui.Email != u.Email || claims.Name != u.Name || claims.PreferredUsername != u.Username {
		t.Errorf("UserInfo sub=%q email=%q name=%q preferred_username=%q; want %q %q %q %q",
			ui.Subject, ui.Email, claims.Name, claims.PreferredUsername, u.ID, u.Email, u.Name, u.Username)
	}
}

// wantAuthorizeError checks that an authorization request ends in an
// error: either a redirect to the registered URI with error (and iss), or
// a 4xx HTML error page on the server; never a code.
func wantAuthorizeError(t *testing.T, b *browser, s *server, u testUser, authURL string) string {
	t.Helper()
	p := b.get(authURL)
	if isLoginPage(t, p) {
		p = b.login(p, u)
	}
	if isConsentPage(t, p) {
		p = b.decide(p, "allow")
	}
	if loc := p.location(); loc != nil {
		q := callback(t, p, e2eRedirect)
		if q.Get("code") != "" || q.Get("error") == "" {
			t.Fatalf("want an error redirect, got %s", loc)
		}
		if q.Get("iss") != s.PublicURL {
			t.Errorf("error redirect without iss: %s", loc)
		}
		return q.Get("error")
	}
	if p.status < 400 || p.status > 499 {
		t.Fatalf("want a 4xx or an error redirect, got %d:\n%.500s", p.status, p.body)
	}
	return pageError(t, p)
}

// pageError returns the error code of the HTML error page p, which an
// authorization error is when it may not go back to the client.
func pageError(t *testing.T, p page) string {
	t.Helper()
	return errorPageCode(t, reply{status: p.status, header: p.header, raw: p.body})
}

func TestE2EAuthorizationCode(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		a := newAuthCodeSetup(t, e)
		ctx := context.Background()
		scopes := []string{"openid", "profile", "email"}
		alice := newBrowser(t, a.s)

		t.Run("confidential client", func(t *testing.T) {
			r := newRP(t, a.s, a.conf, scopes...)
			tok, req, login, consent := r.codeFlow(t, alice, a.s, a.alice)
			if !login || !consent {
				t.Errorf("first authorization: login page %v, consent page %v; want both", login, consent)
			}
			if tok.RefreshToken == "" {
				t.Errorf("no refresh token for a client with the refresh_token grant")
			}
			r.checkIDToken(t, tok, req, a.alice)
			claims := verifyAccessJWT(t, a.m, tok.AccessToken)
			if claims.Sub != a.alice.ID || claims.ClientID != a.conf.ClientID {
				t.Errorf("access token sub=%q client_id=%q", claims.Sub, claims.ClientID)
			}
			// Consent is remembered: the second authorization shows no page.
			tok2, req2, login, consent := r.codeFlow(t, alice, a.s, a.alice)
			if login || consent {
				t.Errorf("second authorization: login page %v, consent page %v; want neither", login, consent)
			}
			r.checkIDToken(t, tok2, req2, a.alice)
		})

		t.Run("public client with PKCE", func(t *testing.T) {
			r := newRP(t, a.s, a.public, scopes...)
			b := newBrowser(t, a.s)
			tok, req, login, consent := r.codeFlow(t, b, a.s, a.alice)
			if !login || !consent {
				t.Errorf("login page %v, consent page %v; want both", login, consent)
			}
			r.checkIDToken(t, tok, req, a.alice)
		})

		t.Run("skip consent", func(t *testing.T) {
			r := newRP(t, a.s, a.skips, scopes...)
			b := newBrowser(t, a.s)
			tok, req, login, consent := r.codeFlow(t, b, a.s, a.bob)
			if !login || consent {
				t.Errorf("login page %v, consent page %v; want only login", login, consent)
			}
			r.checkIDToken(t, tok, req, a.bob)
		})

		t.Run("deny", func(t *testing.T) {
			r := newRP(t, a.s, a.conf, scopes...)
			b := newBrowser(t, a.s)
			req := r.authRequest(t)
			p := b.login(b.get(req.url), a.bob)
			if !isConsentPage(t, p) {
				t.Fatalf("want the consent page, got %d:\n%.500s", p.status, p.body)
			}
			q := callback(t, b.decide(p, "deny"), e2eRedirect)
			if q.Get("error") != "access_denied" || q.Get("state") != req.state || q.Get("iss") != a.s.PublicURL || q.Get("code") != "" {
				t.Errorf("deny: callback %v; want error=access_denied with state and iss", q)
			}
		})

		t.Run("public client without PKCE", func(t *testing.T) {
			u := authURL(a.m, url.Values{"client_id": {a.public.ClientID}, "redirect_uri": {e2eRedirect},
				"response_type": {"code"}, "scope": {"openid"}, "state": {"state-123456789"}, "nonce": {"nonce-123456789"}})
			if code := wantAuthorizeError(t, alice, a.s, a.alice, u); code != "invalid_request" {
				t.Errorf("error %q, want invalid_request", code)
			}
		})

		t.Run("plain PKCE refused", func(t *testing.T) {
			v := oauth2.GenerateVerifier()
			for _, c := range []clientInfo{a.public, a.conf} {
				u := authURL(a.m, url.Values{"client_id": {c.ClientID}, "redirect_uri": {e2eRedirect},
					"response_type": {"code"}, "scope": {"openid"}, "state": {"state-123456789"}, "nonce": {"nonce-123456789"},
					"code_challenge": {v}, "code_challenge_method": {"plain"}})
				if code := wantAuthorizeError(t, alice, a.s, a.alice, u); code != "invalid_request" {
					t.Errorf("error %q, want invalid_request", code)
				}
			}
		})

		t.Run("exact redirect URI", func(t *testing.T) {
			// RFC 8252 §7.3 (and RFC 9700 §4.1.3) let a loopback redirect URI
			// vary only in its port; every other difference is refused.
			for _, ru := range []string{e2eRedirect + "/x", e2eRedirect + "?a=1", e2eRedirect + "/",
				"http://localhost:9/callback", "https://evil.example/callback", "javascript:alert(1)",
				"https://app.example.com/cb/", "https://app.example.com:8443/cb", "https://app.example.com/cb?x=1",
				"https://APP.example.com.evil/cb", "http://app.example.com/cb"} {
				u := authURL(a.m, url.Values{"client_id": {a.conf.ClientID}, "redirect_uri": {ru},
					"response_type": {"code"}, "scope": {"openid"}, "state": {"state-123456789"},
					"code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}})
				p := alice.get(u)
				if p.location() != nil || p.status < 400 || p.status > 499 {
					t.Errorf("redirect_uri %s: %d Location %q; want a 4xx without a redirect", ru, p.status, p.header.Get("Location"))
					continue
				}
				if code := pageError(t, p); code != "invalid_request" {
					t.Errorf("redirect_uri %s: no error code in %s", ru, p.body)
				}
			}
		})

		t.Run("code replay revokes the grant", func(t *testing.T) {
			r := newRP(t, a.s, a.conf, scopes...)
			req := r.authRequest(t)
			q, _, _ := r.authorize(t, alice, a.s, a.alice, req)
			tok, err := r.cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(req.verifier))
			if err != nil {
				t.Fatal(err)
			}
			wantActive(t, "access token", introspect(t, a.m, a.conf, tok.AccessToken))
			wantActive(t, "refresh token", introspect(t, a.m, a.conf, tok.RefreshToken))
			_, err = r.cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(req.verifier))
			if code := retrieveError(t, err); code != "invalid_grant" {
				t.Errorf("replayed code: %q, want invalid_grant", code)
			}
			wantInactive(t, "access token after code replay", introspect(t, a.m, a.conf, tok.AccessToken))
			wantInactive(t, "refresh token after code replay", introspect(t, a.m, a.conf, tok.RefreshToken))
			if _, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
				t.Errorf("UserInfo accepts an access token of a replayed code")
			}
		})

		t.Run("wrong PKCE verifier", func(t *testing.T) {
			r := newRP(t, a.s, a.public, scopes...)
			req := r.authRequest(t)
			q, _, _ := r.authorize(t, alice, a.s, a.alice, req)
			_, err := r.cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
			if code := retrieveError(t, err); code != "invalid_grant" {
				t.Errorf("wrong verifier: %q, want invalid_grant", code)
			}
		})

		if r := postForm(t, a.m.TokenEndpoint, url.Values{"grant_type": {"client_credentials"}}, a.conf.ClientID, a.conf.ClientSecret); r.status != http.StatusBadRequest {
			t.Errorf("a client without client_credentials: %d %s", r.status, r.raw)
		}
	})
}

// authURL builds an authorization URL by hand (for requests x/oauth2 will
// not make).
func authURL(m metadata, q url.Values) string { return m.AuthorizationEndpoint + "?" + q.Encode() }
