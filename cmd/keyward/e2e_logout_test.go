package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestLogout covers the end_session_endpoint (OpenID Connect RP-Initiated
// Logout 1.0): confirmation with CSRF, the session ends, the browser goes
// to a registered post_logout_redirect_uri with the state, and an
// unregistered one is refused.
func TestLogout(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		alice := e.newUser("alice", "alice-password-1", "alice@example.com", "Alice")
		const bye = "http://127.0.0.1:9/bye"
		c := e.newClient("--name", "RP", "--grant-type", "authorization_code", "--redirect-uri", e2eRedirect,
			"--post-logout-redirect-uri", bye, "--scope", "openid", "--skip-consent")
		s := e.serve()
		r := newRP(t, s, c, "openid")
		b := newBrowser(t, s)
		a := r.authRequest(t)
		q, sawLogin, _ := r.authorize(t, b, s, alice, a)
		if !sawLogin {
			t.Fatal("first authorization must show the login page")
		}
		tok, err := r.cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(a.verifier))
		if err != nil {
			t.Fatal(err)
		}
		idToken, _ := tok.Extra("id_token").(string)
		var meta struct {
			EndSession string `json:"end_session_endpoint"`
		}
		if err := r.provider.Claims(&meta); err != nil || meta.EndSession == "" {
			t.Fatalf("discovery lacks end_session_endpoint: %v", err)
		}

		// An unregistered post-logout redirect is refused, without redirecting.
		bad := b.get(meta.EndSession + "?" + url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {"https://evil.example/"}}.Encode())
		if bad.status != http.StatusBadRequest || bad.location() != nil {
			t.Fatalf("unregistered post_logout_redirect_uri: %d %v", bad.status, bad.location())
		}

		p := b.get(meta.EndSession + "?" + url.Values{"id_token_hint": {idToken}, "post_logout_redirect_uri": {bye}, "state": {"st-123"}}.Encode())
		if p.status != http.StatusOK {
			t.Fatalf("logout confirmation: %d", p.status)
		}
		f := formWith(t, p, "csrf_token")
		// Without the CSRF token the logout is refused and the session stays.
		noCSRF := f
		noCSRF.fields = url.Values{}
		for k, v := range f.fields {
			if k != "csrf_token" {
				noCSRF.fields[k] = v
			}
		}
		if got := b.submit(p, noCSRF, nil); got.status != http.StatusForbidden {
			t.Fatalf("logout without CSRF: %d", got.status)
		}
		done := b.submit(p, f, nil)
		loc := done.location()
		if loc == nil || !strings.HasPrefix(loc.String(), bye) || loc.Query().Get("state") != "st-123" {
			t.Fatalf("after logout: %d %v", done.status, loc)
		}
		// Signed out: the next authorization asks to log in again.
		a = r.authRequest(t)
		if _, sawLogin, _ := r.authorize(t, b, s, alice, a); !sawLogin {
			t.Error("the session survived the logout")
		}
	})
}
