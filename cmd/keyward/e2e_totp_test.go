package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"github.com/keyward/keyward/authz"
)

// TestTOTP enrols an authenticator app on /account (the secret read from
// the page, codes computed with pquerna/otp), signs in with the password
// and a code through an authorization code flow whose ID token says
// pwd+otp+mfa, refuses the same code again, accepts a recovery code once,
// and sends a user without a factor to enrol when a client requires two.
func TestTOTP(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		u := e.newUser("dave", "dave-password-1", "dave@example.com", "Dave")
		plain := e.newUser("erin", "erin-password-1", "erin@example.com", "Erin")
		c := e.newClient("--name", "TOTP App", "--grant-type", "authorization_code", "--redirect-uri", e2eRedirect,
			"--scope", "openid", "--skip-consent")
		strict := e.newClient("--name", "Strict App", "--grant-type", "authorization_code", "--redirect-uri", e2eRedirect,
			"--scope", "openid", "--skip-consent", "--mfa", "required")
		s := e.serve()
		r := newRP(t, s, c, "openid")

		// Enrolment: password, then /account.
		b := newBrowser(t, s)
		p := b.login(b.get(s.PublicURL+authz.PathLogin+"?return_to="+url.QueryEscape(authz.PathAccount)), u)
		if p.status != http.StatusOK || p.url.Path != authz.PathAccount {
			t.Fatalf("after sign-in: %d at %s", p.status, p.url)
		}
		p = b.submit(p, formAction(t, p, "/account/totp"), nil)
		m := regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(p.body)
		if m == nil || !strings.Contains(p.body, `<svg class="qr"`) {
			t.Fatalf("enrolment page has no secret or QR code:\n%.2000s", p.body)
		}
		secret := m[1]
		code := func(at time.Time) string {
			v, err := totp.GenerateCode(secret, at)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		p = b.submit(p, formAction(t, p, "/account/totp/confirm"), url.Values{"code": {"000000"}})
		if p.status != http.StatusUnauthorized {
			t.Errorf("a wrong confirmation code: %d, want 401", p.status)
		}
		p = b.submit(p, formAction(t, p, "/account/totp/confirm"), url.Values{"code": {code(time.Now())}})
		codes := regexp.MustCompile(`<li>([a-z0-9]{5}-[a-z0-9]{5})</li>`).FindAllStringSubmatch(p.body, -1)
		if p.status != http.StatusOK || len(codes) != 10 {
			t.Fatalf("confirmation: %d with %d recovery codes:\n%.2000s", p.status, len(codes), p.body)
		}

		// Sign-in: the password, then the code (of the next step, which
		// the server accepts for clock drift).
		next := code(time.Now().Add(30 * time.Second))
		signIn := func(method, value string) (page, authRequest) {
			t.Helper()
			b := newBrowser(t, s)
			a := r.authRequest(t)
			p := b.login(b.get(a.url), u)
			if p.url.Path != authz.PathSecondStep {
				t.Fatalf("after the password: %d at %s, want the second step", p.status, p.url)
			}
			f := formWithValue(t, p, "method", method)
			return b.submit(p, f, url.Values{"code": {value}}), a
		}
		p, a := signIn("totp", next)
		q := callback(t, p, e2eRedirect)
		claims := exchangeE2E(t, r, a, q.Get("code"))
		for _, want := range []string{"pwd", "otp", "mfa"} {
			if !slices.Contains(claims.AMR, want) {
				t.Errorf("amr %v lacks %q", claims.AMR, want)
			}
		}
		if claims.ACR != authz.ACRMFA {
			t.Errorf("acr %q, want %q", claims.ACR, authz.ACRMFA)
		}

		// The same code again is refused, in another browser.
		p, _ = signIn("totp", next)
		if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "used already") {
			t.Errorf("replayed code: %d\n%.1500s", p.status, p.body)
		}

		// A recovery code works once.
		p, a = signIn("recovery", codes[3][1])
		q = callback(t, p, e2eRedirect)
		exchangeE2E(t, r, a, q.Get("code"))
		p, _ = signIn("recovery", codes[3][1])
		if p.status != http.StatusUnauthorized {
			t.Errorf("a used recovery code: %d, want 401", p.status)
		}

		// A client that requires two factors sends a user without one to
		// enrol, and asks dave for his code even though he is signed in.
		rs := newRP(t, s, strict, "openid")
		eb := newBrowser(t, s)
		p = eb.login(eb.get(rs.authRequest(t).url), plain)
		if p.url.Path != authz.PathAccount || !strings.Contains(p.body, "requires a second factor") {
			t.Errorf("a user without a factor at a strict client: %d at %s", p.status, p.url)
		}
		db := newBrowser(t, s)
		a = r.authRequest(t)
		p = db.login(db.get(a.url), u)
		p = db.submit(p, formWithValue(t, p, "method", "recovery"), url.Values{"code": {codes[4][1]}})
		callback(t, p, e2eRedirect)
		p = db.get(rs.authRequest(t).url)
		if p.location() != nil {
			// Signed in with two factors already: straight back.
			callback(t, p, e2eRedirect)
		} else {
			t.Errorf("a two-factor session at a strict client: %d at %s", p.status, p.url)
		}
		// acr_values asks for two factors too: a password-only session
		// (erin's) is sent to enrol.
		p = eb.get(r.authRequest(t, oauth2.SetAuthURLParam("acr_values", authz.ACRMFA)).url)
		if p.url.Path != authz.PathAccount {
			t.Errorf("acr_values=%s with one factor: %d at %s", authz.ACRMFA, p.status, p.url)
		}
	})
}

// formAction returns the form of p posting to action.
func formAction(t *testing.T, p page, action string) htmlForm {
	t.Helper()
	for _, f := range forms(t, p.body) {
		if f.action == action {
			return f
		}
	}
	t.Fatalf("no form posting to %s on %s (status %d):\n%.2000s", action, p.url, p.status, p.body)
	return htmlForm{}
}

// formWithValue returns the form of p whose field name has value.
func formWithValue(t *testing.T, p page, name, value string) htmlForm {
	t.Helper()
	for _, f := range forms(t, p.body) {
		if f.fields.Get(name) == value {
			return f
		}
	}
	t.Fatalf("no form with %s=%s on %s (status %d):\n%.2000s", name, value, p.url, p.status, p.body)
	return htmlForm{}
}

// exchangeE2E redeems a code of r and returns the ID token's amr and acr.
func exchangeE2E(t *testing.T, r *rp, a authRequest, code string) idClaims {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tok, err := r.cfg.Exchange(ctx, code, oauth2.VerifierOption(a.verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := r.verifier.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("id_token: %v", err)
	}
	var c idClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	return c
}
