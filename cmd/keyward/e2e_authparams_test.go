package main

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestE2EAuthorizeParameters covers the optional authorization-request
// parameters: state is optional and echoed exactly (RFC 6749 §4.1.1,
// §4.1.2), state and nonce may be short (OIDC Core §3.1.2.1),
// response_mode=query is accepted as advertised, and a code_challenge
// must have the S256 shape (RFC 7636 §4.2).
func TestE2EAuthorizeParameters(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		a := newAuthCodeSetup(t, e)
		b := newBrowser(t, a.s)
		ctx := context.Background()
		r := newRP(t, a.s, a.public, "openid")

		// flow runs an authorization of the public client with PKCE and
		// the extra parameters (a nil value drops one), and returns the
		// callback parameters and the code's tokens.
		flow := func(t *testing.T, extra url.Values) (url.Values, *oauth2.Token) {
			t.Helper()
			verifier := oauth2.GenerateVerifier()
			q := url.Values{"client_id": {a.public.ClientID}, "redirect_uri": {e2eRedirect}, "response_type": {"code"},
				"scope": {"openid"}, "state": {"state-123456789"}, "nonce": {"nonce-123456789"},
				"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
			for k, vs := range extra {
				if vs == nil {
					q.Del(k)
				} else {
					q[k] = vs
				}
			}
			p := b.get(authURL(a.m, q))
			if isLoginPage(t, p) {
				p = b.login(p, a.alice)
			}
			if isConsentPage(t, p) {
				p = b.decide(p, "allow")
			}
			cb := callback(t, p, e2eRedirect)
			if cb.Get("code") == "" || cb.Get("iss") != a.s.PublicURL {
				t.Fatalf("callback %v: want a code and iss", cb)
			}
			tok, err := r.cfg.Exchange(ctx, cb.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			return cb, tok
		}

		t.Run("no state", func(t *testing.T) {
			cb, _ := flow(t, url.Values{"state": nil})
			if cb.Has("state") {
				t.Errorf("callback %v has a state the request did not send", cb)
			}
		})

		t.Run("state echoed exactly", func(t *testing.T) {
			for _, st := range []string{"x", "1234567", "a b&c=d/é?#+%20", "state-123456789"} {
				cb, _ := flow(t, url.Values{"state": {st}})
				if got := cb["state"]; len(got) != 1 || got[0] != st {
					t.Errorf("state %q came back as %q", st, got)
				}
			}
		})

		t.Run("short nonce", func(t *testing.T) {
			_, tok := flow(t, url.Values{"nonce": {"n"}})
			raw, _ := tok.Extra("id_token").(string)
			idt, err := r.verifier.Verify(ctx, raw)
			if err != nil {
				t.Fatal(err)
			}
			if idt.Nonce != "n" {
				t.Errorf("ID token nonce %q, want %q", idt.Nonce, "n")
			}
		})

		t.Run("response_mode query", func(t *testing.T) {
			cb, _ := flow(t, url.Values{"response_mode": {"query"}})
			if cb.Get("state") != "state-123456789" {
				t.Errorf("callback %v", cb)
			}
		})

		t.Run("error redirect without state", func(t *testing.T) {
			u := authURL(a.m, url.Values{"client_id": {a.public.ClientID}, "redirect_uri": {e2eRedirect},
				"response_type": {"code"}, "scope": {"openid"}})
			p := b.get(u)
			cb := callback(t, p, e2eRedirect)
			if cb.Get("error") != "invalid_request" || cb.Has("state") || cb.Get("iss") != a.s.PublicURL {
				t.Errorf("public client without PKCE or state: callback %v; want invalid_request with iss, no state", cb)
			}
		})

		t.Run("code_challenge shape", func(t *testing.T) {
			good := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
			for _, ch := range []string{"short", good[:42], good + "A", good[:42] + "=", good[:42] + "+",
				good[:42] + "/", good[:40] + "%%%", strings.Repeat("a", 200)} {
				for _, c := range []clientInfo{a.public, a.conf} {
					u := authURL(a.m, url.Values{"client_id": {c.ClientID}, "redirect_uri": {e2eRedirect},
						"response_type": {"code"}, "scope": {"openid"}, "state": {"st-" + c.ClientID},
						"code_challenge": {ch}, "code_challenge_method": {"S256"}})
					cb := callback(t, b.get(u), e2eRedirect)
					if cb.Get("error") != "invalid_request" || cb.Get("iss") != a.s.PublicURL || cb.Get("state") != "st-"+c.ClientID {
						t.Errorf("code_challenge %q (%d chars): callback %v; want invalid_request with iss and state", ch, len(ch), cb)
					}
				}
			}
			u := authURL(a.m, url.Values{"client_id": {a.conf.ClientID}, "redirect_uri": {e2eRedirect},
				"response_type": {"code"}, "scope": {"openid"}, "code_challenge_method": {"S256"}})
			if cb := callback(t, b.get(u), e2eRedirect); cb.Get("error") != "invalid_request" {
				t.Errorf("code_challenge_method without code_challenge: callback %v; want invalid_request", cb)
			}
		})
	})
}
