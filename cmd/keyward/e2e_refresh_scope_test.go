package main

import (
	"net/url"
	"strings"
	"testing"
)

// TestE2ERefreshScope: RFC 6749 §6, the scope asked for on refresh must
// not include any scope the grant does not hold (invalid_scope, and the
// refresh token stays usable); a subset is fine and the answer names the
// scope issued.
func TestE2ERefreshScope(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	a := newAuthCodeSetup(t, e)
	r := newRP(t, a.s, a.conf, "openid", "profile")
	tok, _, _, _ := r.codeFlow(t, newBrowser(t, a.s), a.s, a.alice)

	refresh := func(rt, scope string) reply {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
		if scope != "" {
			form.Set("scope", scope)
		}
		return postForm(t, a.m.TokenEndpoint, form, a.conf.ClientID, a.conf.ClientSecret)
	}
	if got := refresh(tok.RefreshToken, "openid email"); got.status != 400 || got.json["error"] != "invalid_scope" {
		t.Fatalf("refresh asking for a scope not granted: %d %s", got.status, got.raw)
	}
	got := refresh(tok.RefreshToken, "openid")
	if got.status != 200 {
		t.Fatalf("refresh with a narrower scope after a refused one: %d %s", got.status, got.raw)
	}
	if scope, _ := got.json["scope"].(string); !strings.Contains(scope, "openid") || strings.Contains(scope, "email") {
		t.Errorf("issued scope %q", scope)
	}
}

// TestE2ERefreshScopeInGrace: an answer replayed from the grace window is
// held to the same rule: a scope not granted is invalid_scope.
func TestE2ERefreshScopeInGrace(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	a := newAuthCodeSetup(t, e, "--refresh-grace", "1m")
	r := newRP(t, a.s, a.conf, "openid", "profile")
	tok, _, _, _ := r.codeFlow(t, newBrowser(t, a.s), a.s, a.alice)
	refresh := func(scope string) reply {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
		if scope != "" {
			form.Set("scope", scope)
		}
		return postForm(t, a.m.TokenEndpoint, form, a.conf.ClientID, a.conf.ClientSecret)
	}
	first := refresh("")
	if first.status != 200 {
		t.Fatalf("refresh: %d %s", first.status, first.raw)
	}
	if got := refresh("openid email"); got.status != 400 || got.json["error"] != "invalid_scope" {
		t.Fatalf("replay asking for a scope not granted: %d %s", got.status, got.raw)
	}
	if got := refresh("openid"); got.status != 200 || got.json["refresh_token"] != first.json["refresh_token"] {
		t.Fatalf("replay with a granted scope: %d %s", got.status, got.raw)
	}
}
