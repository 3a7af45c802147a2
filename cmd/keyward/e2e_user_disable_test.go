package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/postgres"
	"github.com/keyward/keyward/store/sqlite"
)

// adminCall sends one admin API request with a keyward:admin token of ops
// and returns the status.
func adminCall(t *testing.T, s *server, ops clientInfo, method, path string, body any) int {
	t.Helper()
	cc := &clientcredentials.Config{ClientID: ops.ClientID, ClientSecret: ops.ClientSecret,
		TokenURL: s.PublicURL + "/oauth2/token", Scopes: []string{"keyward:admin"}}
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(t.Context(), method, s.AdminURL+"/admin/v1"+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := cc.Client(t.Context()).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// openEnvStore opens the env's database beside the running server.
func openEnvStore(t *testing.T, e *env) store.UserStore {
	t.Helper()
	ctx := context.Background()
	if e.dbURL != "" {
		db, err := postgres.Open(ctx, e.dbURL, postgres.Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	db, err := sqlite.Open(ctx, filepath.Join(e.dataDir, "keyward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestE2EDisabledUserLosesGrants: disabling a user through the admin API
// revokes their grants at once (refresh is invalid_grant; JWT and opaque
// access tokens introspect inactive) and refuses their sign-in; deleting a
// user does the same; other users keep their tokens. The token endpoint
// also checks the user itself, so a user disabled by any path cannot
// refresh.
func TestE2EDisabledUserLosesGrants(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		a := newAuthCodeSetup(t, e)
		ops := e.newClient("--name", "ops", "--scope", "keyward:admin")
		opaque := e.newClient("--name", "Opaque App", "--grant-type", "authorization_code", "--grant-type", "refresh_token",
			"--scope", "openid", "--redirect-uri", e2eRedirect, "--access-token-format", "opaque")
		carol := e.newUser("carol", "carol's long password", "carol@example.com", "Carol")
		r := newRP(t, a.s, a.conf, "openid")
		ro := newRP(t, a.s, opaque, "openid")
		aliceJWT, _, _, _ := r.codeFlow(t, newBrowser(t, a.s), a.s, a.alice)
		aliceOpaque, _, _, _ := ro.codeFlow(t, newBrowser(t, a.s), a.s, a.alice)
		bobTok, _, _, _ := r.codeFlow(t, newBrowser(t, a.s), a.s, a.bob)
		carolTok, _, _, _ := r.codeFlow(t, newBrowser(t, a.s), a.s, carol)

		if code := adminCall(t, a.s, ops, http.MethodPatch, "/users/"+a.alice.ID, map[string]any{"disabled": true}); code != http.StatusOK {
			t.Fatalf("disable alice: %d", code)
		}
		for _, c := range []struct {
			name string
			rp   *rp
			rt   string
		}{{"JWT grant", r, aliceJWT.RefreshToken}, {"opaque grant", ro, aliceOpaque.RefreshToken}} {
			_, err := c.rp.refresh(c.rt)
			if code := retrieveError(t, err); code != "invalid_grant" {
				t.Errorf("refresh of a disabled user's %s: %q, want invalid_grant", c.name, code)
			}
		}
		wantInactive(t, "disabled user's JWT access token", introspect(t, a.m, a.conf, aliceJWT.AccessToken))
		wantInactive(t, "disabled user's opaque access token", introspect(t, a.m, a.conf, aliceOpaque.AccessToken))
		wantInactive(t, "disabled user's refresh token", introspect(t, a.m, a.conf, aliceJWT.RefreshToken))
		b := newBrowser(t, a.s)
		if p := b.login(b.get(r.authRequest(t).url), a.alice); p.status != http.StatusUnauthorized || !isLoginPage(t, p) {
			t.Errorf("sign-in of a disabled user: %d, want 401 and the login form", p.status)
		}
		wantActive(t, "another user's access token", introspect(t, a.m, a.conf, bobTok.AccessToken))

		if code := adminCall(t, a.s, ops, http.MethodDelete, "/users/"+a.bob.ID, nil); code != http.StatusNoContent {
			t.Fatalf("delete bob: %d", code)
		}
		_, err := r.refresh(bobTok.RefreshToken)
		if code := retrieveError(t, err); code != "invalid_grant" {
			t.Errorf("refresh of a deleted user: %q, want invalid_grant", code)
		}
		wantInactive(t, "deleted user's access token", introspect(t, a.m, a.conf, bobTok.AccessToken))

		// Disabled behind the server's back (no revocation): refused anyway.
		db := openEnvStore(t, e)
		u, err := db.GetUser(context.Background(), carol.ID)
		if err != nil {
			t.Fatal(err)
		}
		u.Disabled = true
		if err := db.UpdateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
		_, err = r.refresh(carolTok.RefreshToken)
		if code := retrieveError(t, err); code != "invalid_grant" {
			t.Errorf("refresh of a user disabled in the database: %q, want invalid_grant", code)
		}
	})
}
