package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// refresh uses refresh token rt through x/oauth2.
func (r *rp) refresh(rt string) (*oauth2.Token, error) {
	old := &oauth2.Token{AccessToken: "expired", RefreshToken: rt, Expiry: time.Unix(1, 0)}
	return r.cfg.TokenSource(context.Background(), old).Token()
}

func TestE2ERefreshRotation(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		const grace = time.Second
		a := newAuthCodeSetup(t, e, "--refresh-grace", grace.String())
		r := newRP(t, a.s, a.conf, "openid", "profile", "email")
		tok0, _, _, _ := r.codeFlow(t, newBrowser(t, a.s), a.s, a.alice)

		tok1, err := r.refresh(tok0.RefreshToken)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		rotated := time.Now()
		if tok1.RefreshToken == "" || tok1.RefreshToken == tok0.RefreshToken || tok1.AccessToken == tok0.AccessToken {
			t.Fatalf("refresh must rotate: old %q new %q", tok0.RefreshToken, tok1.RefreshToken)
		}
		if id, _ := tok1.Extra("id_token").(string); id != "" {
			if _, err := r.verifier.Verify(context.Background(), id); err != nil {
				t.Errorf("ID token from refresh: %v", err)
			}
		}
		// Within the grace window the old token answers with the same pair.
		again, err := r.refresh(tok0.RefreshToken)
		if err != nil {
			t.Fatalf("reuse within the grace window: %v", err)
		}
		if time.Since(rotated) < grace && (again.RefreshToken != tok1.RefreshToken || again.AccessToken != tok1.AccessToken) {
			t.Errorf("reuse within the grace window must return the same new pair")
		}
		// Another client cannot use the token, not even inside the window.
		thief := newRP(t, a.s, e.newClient("--name", "thief", "--grant-type", "authorization_code",
			"--grant-type", "refresh_token", "--scope", "openid", "--redirect-uri", e2eRedirect), "openid")
		if _, err := thief.refresh(tok1.RefreshToken); err == nil {
			t.Errorf("another client refreshed with the current refresh token")
		}
		wantInactive(t, "rotated refresh token", introspect(t, a.m, a.conf, tok0.RefreshToken))
		wantActive(t, "new refresh token", introspect(t, a.m, a.conf, tok1.RefreshToken))
		wantActive(t, "new access token", introspect(t, a.m, a.conf, tok1.AccessToken))

		time.Sleep(time.Until(rotated.Add(grace + 200*time.Millisecond)))
		tok2, err := r.refresh(tok1.RefreshToken)
		if err != nil {
			t.Fatalf("second refresh: %v", err)
		}
		wantActive(t, "newest refresh token", introspect(t, a.m, a.conf, tok2.RefreshToken))

		// Reuse after the grace window revokes the whole grant.
		_, err = r.refresh(tok0.RefreshToken)
		if code := retrieveError(t, err); code != "invalid_grant" {
			t.Errorf("reuse after the grace window: %q, want invalid_grant", code)
		}
		wantInactive(t, "newest refresh token after reuse", introspect(t, a.m, a.conf, tok2.RefreshToken))
		wantInactive(t, "newest access token after reuse", introspect(t, a.m, a.conf, tok2.AccessToken))
		wantInactive(t, "older access token after reuse", introspect(t, a.m, a.conf, tok1.AccessToken))
		wantInactive(t, "first access token after reuse", introspect(t, a.m, a.conf, tok0.AccessToken))
		if _, err := r.refresh(tok2.RefreshToken); err == nil {
			t.Errorf("the newest refresh token still works after the grant was revoked")
		}

		// A rotated token presented by another client inside the window is
		// not answered from the grace cache, and it cannot end the grant
		// either: that client could never have used it.
		tok0, _, _, _ = r.codeFlow(t, newBrowser(t, a.s), a.s, a.alice)
		tok1, err = r.refresh(tok0.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		if stolen, err := thief.refresh(tok0.RefreshToken); err == nil {
			t.Errorf("another client got a pair from a rotated token inside the grace window (same pair: %v)",
				stolen.RefreshToken == tok1.RefreshToken)
		}
		if code := retrieveError(t, func() error { _, err := thief.refresh(tok0.RefreshToken); return err }()); code != "invalid_grant" {
			t.Errorf("another client's rotated token: %q, want invalid_grant", code)
		}
		wantActive(t, "refresh token after another client presented its predecessor", introspect(t, a.m, a.conf, tok1.RefreshToken))
		if _, err := r.refresh(tok1.RefreshToken); err != nil {
			t.Errorf("the grant ended because another client presented an old token: %v", err)
		}
	})
}

// TestE2ERefreshWithoutGrace: with the default settings (no grace window)
// a rotated refresh token presented again at once revokes the grant.
func TestE2ERefreshWithoutGrace(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		a := newAuthCodeSetup(t, e)
		r := newRP(t, a.s, a.conf, "openid")
		tok0, _, _, _ := r.codeFlow(t, newBrowser(t, a.s), a.s, a.alice)
		tok1, err := r.refresh(tok0.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.refresh(tok0.RefreshToken)
		if code := retrieveError(t, err); code != "invalid_grant" {
			t.Errorf("immediate reuse without grace: %q, want invalid_grant", code)
		}
		wantInactive(t, "refresh token of the revoked grant", introspect(t, a.m, a.conf, tok1.RefreshToken))
		wantInactive(t, "access token of the revoked grant", introspect(t, a.m, a.conf, tok1.AccessToken))
	})
}

// TestE2EForgedRefreshTokenKey: a refresh token whose stored half (the
// signature its record is found by) is right but whose key half is not
// (another key, or not base64url at all) is refused by the token
// endpoint with an OAuth error, through golang.org/x/oauth2, on both
// engines; the genuine token keeps working afterwards.
func TestE2EForgedRefreshTokenKey(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		a := newAuthCodeSetup(t, e)
		r := newRP(t, a.s, a.conf, "openid")
		tok0, _, _, _ := r.codeFlow(t, newBrowser(t, a.s), a.s, a.alice)
		key, sig, ok := strings.Cut(strings.TrimPrefix(tok0.RefreshToken, "kw_rt_"), ".")
		if !ok || !strings.HasPrefix(tok0.RefreshToken, "kw_rt_") {
			t.Fatalf("refresh token %q: not kw_rt_key.signature", tok0.RefreshToken)
		}
		other := []byte(key)
		other[0] = map[bool]byte{true: 'B', false: 'A'}[other[0] == 'A']
		for _, forged := range []string{string(other), "!" + key[1:], key + "A"} {
			_, err := r.refresh("kw_rt_" + forged + "." + sig)
			if code := retrieveError(t, err); code != "invalid_request" && code != "invalid_grant" {
				t.Errorf("forged key %q: error %q, want invalid_request or invalid_grant", forged, code)
			}
		}
		wantActive(t, "genuine refresh token after forged ones", introspect(t, a.m, a.conf, tok0.RefreshToken))
		if _, err := r.refresh(tok0.RefreshToken); err != nil {
			t.Fatalf("genuine refresh token after forged ones: %v", err)
		}
	})
}
