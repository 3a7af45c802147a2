package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/keyward/keyward/authz"
	"github.com/keyward/keyward/store"
)

// TestAccountSelfService drives /account over real HTTP on each engine:
// the sessions list (this one marked) and ending one or all others; the
// applications consented to, whose revocation ends their refresh and
// access tokens; and the password change, which wants the current
// password, keeps the policy, and signs the other sessions out. Each
// change leaves its audit event; a form without its CSRF token is refused.
func TestAccountSelfService(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		u := e.newUser("frank", "frank-password-1", "frank@example.com", "Frank")
		c := e.newClient("--name", "Notes", "--grant-type", "authorization_code", "--grant-type", "refresh_token",
			"--redirect-uri", e2eRedirect, "--scope", "openid offline_access")
		s := e.serve()
		m := discover(t, s)
		r := newRP(t, s, c, "openid", "offline_access")
		accountURL := s.PublicURL + authz.PathAccount

		// Browser A signs in through Notes and consents; Notes gets tokens.
		a := newBrowser(t, s)
		ar := r.authRequest(t)
		q, _, sawConsent := r.authorize(t, a, s, u, ar)
		if !sawConsent {
			t.Fatal("no consent page for Notes")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		tok, err := r.cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(ar.verifier))
		if err != nil || tok.RefreshToken == "" {
			t.Fatalf("exchange: %v (refresh token %q)", err, tok.RefreshToken)
		}
		wantActive(t, "access token before revocation", introspect(t, m, c, tok.AccessToken))

		// Browser B signs in on the account page.
		b := newBrowser(t, s)
		p := b.login(b.get(s.PublicURL+authz.PathLogin+"?return_to="+url.QueryEscape(authz.PathAccount)), u)
		if p.status != http.StatusOK || p.url.Path != authz.PathAccount {
			t.Fatalf("after sign-in: %d at %s", p.status, p.url)
		}
		if n := strings.Count(p.body, `<li class="session"`); n != 2 || !strings.Contains(p.body, `id="this-session"`) {
			t.Fatalf("sessions listed: %d (this one marked: %v)\n%.3000s", n, strings.Contains(p.body, `id="this-session"`), p.body)
		}
		if !strings.Contains(p.body, `class="app-name">Notes<`) || !strings.Contains(p.body, "openid offline_access") {
			t.Errorf("Notes is not listed with its scopes:\n%.3000s", p.body)
		}

		// A form without its CSRF token changes nothing.
		f := formWithValue(t, p, "sid", "others")
		if got := b.submit(p, f, url.Values{"csrf_token": {"forged"}}); got.status != http.StatusForbidden {
			t.Errorf("ending sessions with a forged CSRF token: %d", got.status)
		}
		if got := a.get(accountURL); got.url.Path != authz.PathAccount {
			t.Fatalf("A was signed out by a forged form: at %s", got.url)
		}

		// B ends A's session by its sid.
		sid := otherSID(t, p)
		p = b.submit(p, formWithValue(t, p, "sid", sid), nil)
		if p.status != http.StatusOK || !strings.Contains(p.body, "1 session was signed out") {
			t.Fatalf("end one session: %d\n%.2000s", p.status, p.body)
		}
		if got := a.get(accountURL); got.url.Path != authz.PathLogin {
			t.Errorf("A still signed in after its session ended: at %s", got.url)
		}
		csrf := formAction(t, p, "/account/password").fields.Get("csrf_token")
		stale := htmlForm{action: "/account/sessions/end", method: "post", fields: url.Values{"csrf_token": {csrf}}}
		if got := b.submit(p, stale, url.Values{"sid": {sid}}); got.status != http.StatusNotFound {
			t.Errorf("ending an ended session: %d, want 404", got.status)
		}
		// A signs in again; B ends all others.
		a.login(a.get(s.PublicURL+authz.PathLogin+"?return_to="+url.QueryEscape(authz.PathAccount)), u)
		p = b.get(accountURL)
		p = b.submit(p, formWithValue(t, p, "sid", "others"), nil)
		if p.status != http.StatusOK || !strings.Contains(p.body, "1 session was signed out") {
			t.Fatalf("end all others: %d\n%.2000s", p.status, p.body)
		}
		if got := a.get(accountURL); got.url.Path != authz.PathLogin {
			t.Errorf("A still signed in after all others ended: at %s", got.url)
		}

		// Revoking Notes deletes the consent and its tokens.
		p = b.submit(p, formWithValue(t, p, "client_id", c.ClientID), nil)
		if p.status != http.StatusOK || strings.Contains(p.body, `class="app-name">Notes<`) {
			t.Fatalf("revoke: %d\n%.2000s", p.status, p.body)
		}
		wantInactive(t, "access token after revocation", introspect(t, m, c, tok.AccessToken))
		wantInactive(t, "refresh token after revocation", introspect(t, m, c, tok.RefreshToken))
		if rr := postForm(t, m.TokenEndpoint, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}},
			c.ClientID, c.ClientSecret); rr.status != http.StatusBadRequest || rr.str("error") != "invalid_grant" {
			t.Errorf("refresh after revocation: %d %s", rr.status, rr.raw)
		}
		again := htmlForm{action: "/account/apps/revoke", method: "post", fields: url.Values{"csrf_token": {csrf}}}
		if got := b.submit(p, again, url.Values{"client_id": {c.ClientID}}); got.status != http.StatusNotFound {
			t.Errorf("revoking again: %d, want 404", got.status)
		}
		// The next authorization asks for consent again.
		if _, _, saw := r.authorize(t, a, s, u, r.authRequest(t)); !saw {
			t.Error("no consent asked after revocation")
		}

		// Password change. A is signed in again (just now).
		p = b.get(accountURL)
		pw := formAction(t, p, "/account/password")
		got := b.submit(p, pw, url.Values{"current_password": {"wrong-password"}, "new_password": {"frank-password-2"},
			"new_password_confirm": {"frank-password-2"}})
		if got.status != http.StatusUnauthorized || !strings.Contains(got.body, `id="current-password-error"`) {
			t.Errorf("wrong current password: %d\n%.2000s", got.status, got.body)
		}
		got = b.submit(p, pw, url.Values{"current_password": {u.Password}, "new_password": {"short"}, "new_password_confirm": {"short"}})
		if got.status != http.StatusUnprocessableEntity || !strings.Contains(got.body, `id="new-password-error"`) {
			t.Errorf("short new password: %d", got.status)
		}
		got = b.submit(p, pw, url.Values{"current_password": {u.Password}, "new_password": {"frank-password-2"}, "new_password_confirm": {"frank-password-3"}})
		if got.status != http.StatusUnprocessableEntity || !strings.Contains(got.body, `id="new-password-confirm-error"`) {
			t.Errorf("mismatched new passwords: %d", got.status)
		}
		got = b.submit(p, pw, url.Values{"current_password": {u.Password}, "new_password": {"frank-password-2"}, "new_password_confirm": {"frank-password-2"}})
		if got.status != http.StatusOK || !strings.Contains(got.body, "Your password was changed. 1 other session was signed out.") {
			t.Fatalf("password change: %d\n%.2000s", got.status, got.body)
		}
		if again := b.get(accountURL); again.url.Path != authz.PathAccount {
			t.Errorf("the changing browser was signed out: at %s", again.url)
		}
		if got := a.get(accountURL); got.url.Path != authz.PathLogin {
			t.Errorf("the other browser is still signed in after the password change: at %s", got.url)
		}
		old := newBrowser(t, s)
		if got := old.login(old.get(s.PublicURL+authz.PathLogin), u); got.status != http.StatusUnauthorized {
			t.Errorf("the old password still works: %d", got.status)
		}
		u.Password = "frank-password-2"
		if got := old.login(old.get(s.PublicURL+authz.PathLogin+"?return_to="+url.QueryEscape(authz.PathAccount)), u); got.url.Path != authz.PathAccount {
			t.Errorf("the new password does not work: %d at %s", got.status, got.url)
		}

		db := e.open(t)
		evs, _, err := db.ListAudit(context.Background(), store.AuditFilter{Subject: u.ID, Type: "user.*"}, store.Page{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		count := map[string]int{}
		for _, ev := range evs {
			count[ev.Type]++
			if strings.Contains(string(ev.Data), "frank-password") {
				t.Errorf("a password is in the audit event %s: %s", ev.Type, ev.Data)
			}
			if ev.Type != "user.created" && ev.Type != "user.signed_in" && ev.Actor != "user:"+u.ID {
				t.Errorf("%s by %q", ev.Type, ev.Actor)
			}
		}
		for typ, n := range map[string]int{"user.sessions_ended": 2, "user.consent_revoked": 1,
			"user.password_change_failed": 1, "user.password_changed": 1} {
			if count[typ] != n {
				t.Errorf("%d %s events, want %d (all: %v)", count[typ], typ, n, count)
			}
		}
	})
}

// otherSID returns the sid of the first session on the account page that
// is not this browser's.
func otherSID(t *testing.T, p page) string {
	t.Helper()
	for _, f := range forms(t, p.body) {
		if sid := f.fields.Get("sid"); f.action == "/account/sessions/end" && sid != "" && sid != "others" {
			return sid
		}
	}
	t.Fatalf("no other session to end:\n%.2000s", p.body)
	return ""
}
