package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/keyward/keyward/authz"
	"github.com/keyward/keyward/store"
)

// TestAdminAPIResetFactors: POST /admin/v1/users/{id}/reset-factors on a
// running server, on each engine, removes the user's factors and signs
// their browser out at once; an unknown user is a 404 problem.
func TestAdminAPIResetFactors(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		var ops clientInfo
		e.runJSON(&ops, "", "clients", "create", "--name", "ops", "--scope", "keyward:admin")
		u := e.newUser("ivy", "ivy-password-1", "ivy@example.com", "Ivy")
		s := e.serve()
		db := e.open(t).(store.Store)
		ctx, now := context.Background(), time.Now().UTC()
		if err := db.PutTOTP(ctx, &store.TOTPFactor{UserID: u.ID, Secret: []byte{1}, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateWebAuthnCredential(ctx, &store.WebAuthnCredential{ID: []byte("ivy-key"), UserID: u.ID,
			PublicKey: []byte{1}, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t, s)
		api := (&clientcredentials.Config{ClientID: ops.ClientID, ClientSecret: ops.ClientSecret,
			TokenURL: s.PublicURL + "/oauth2/token", Scopes: []string{"keyward:admin"}}).Client(t.Context())
		post := func(path string) *http.Response {
			t.Helper()
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.AdminURL+"/admin/v1"+path, nil)
			resp, err := api.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp
		}
		// With factors enrolled the password leads to the second step.
		p := b.login(b.get(s.PublicURL+authz.PathLogin+"?return_to="+url.QueryEscape(authz.PathAccount)), u)
		if p.url.Path != authz.PathSecondStep {
			t.Fatalf("with factors, the password leads to %s, want the second step", p.url.Path)
		}
		if resp := post("/users/" + u.ID + "/reset-factors"); resp.StatusCode != http.StatusOK {
			t.Fatalf("reset-factors: %d", resp.StatusCode)
		}
		if _, err := db.GetTOTP(ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("TOTP after reset: %v", err)
		}
		if creds, err := db.ListWebAuthnCredentials(ctx, u.ID); err != nil || len(creds) != 0 {
			t.Errorf("passkeys after reset: %d, %v", len(creds), err)
		}
		// Now the password alone signs in; a second reset signs that out.
		p = b.login(b.get(s.PublicURL+authz.PathLogin+"?return_to="+url.QueryEscape(authz.PathAccount)), u)
		if p.url.Path != authz.PathAccount {
			t.Fatalf("after the reset the password leads to %s, want /account", p.url.Path)
		}
		if resp := post("/users/" + u.ID + "/reset-factors"); resp.StatusCode != http.StatusOK {
			t.Fatalf("second reset-factors: %d", resp.StatusCode)
		}
		if p := b.get(s.PublicURL + authz.PathAccount); p.url.Path != authz.PathLogin {
			t.Errorf("the browser is still signed in after the reset: at %s", p.url.Path)
		}
		if resp := post("/users/nobody/reset-factors"); resp.StatusCode != http.StatusNotFound ||
			resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("unknown user: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		evs, _, err := db.ListAudit(ctx, store.AuditFilter{Subject: u.ID, Type: "user.factors_reset"}, store.Page{Limit: 10})
		if err != nil || len(evs) != 2 || evs[0].Actor != "client:"+ops.ClientID {
			t.Errorf("user.factors_reset events: %d, %v (actor %q)", len(evs), err, func() string {
				if len(evs) > 0 {
					return evs[0].Actor
				}
				return ""
			}())
		}
	})
}
