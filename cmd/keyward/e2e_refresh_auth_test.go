package main

import (
	"net/http"
	"net/url"
	"sync"
	"testing"
)

// refreshForm is the body of a refresh-token request.
func refreshForm(rt string, extra ...string) url.Values {
	f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return f
}

// wantOAuthError checks an RFC 6749 §5.2 error answer without tokens.
func wantOAuthError(t *testing.T, what string, r reply, status int, code string) {
	t.Helper()
	if r.str("access_token") != "" || r.str("refresh_token") != "" {
		t.Errorf("%s: %d with tokens, want %d %q", what, r.status, status, code)
	} else if r.status != status || r.str("error") != code {
		t.Errorf("%s: %d %q, want %d %q: %.300s", what, r.status, r.str("error"), status, code, r.raw)
	}
}

// TestE2ERefreshGraceNeedsClientAuth: inside the grace window a rotated
// refresh token answers with the new pair only to its client, with its
// secret; a wrong or missing secret is invalid_client, and a concurrent
// rotation is not shared with a request that fails authentication.
func TestE2ERefreshGraceNeedsClientAuth(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		a := newAuthCodeSetup(t, e, "--refresh-grace", "1m")
		r := newRP(t, a.s, a.conf, "openid")
		tok0, _, _, _ := r.codeFlow(t, newBrowser(t, a.s), a.s, a.alice)
		tok1, err := r.refresh(tok0.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		tokURL, id := a.m.TokenEndpoint, a.conf.ClientID

		wantOAuthError(t, "replay with a wrong secret", postForm(t, tokURL, refreshForm(tok0.RefreshToken), id, "wrong"),
			http.StatusUnauthorized, "invalid_client")
		wantOAuthError(t, "replay with a wrong client_secret in the body", postForm(t, tokURL,
			refreshForm(tok0.RefreshToken, "client_id", id, "client_secret", "wrong"), "", ""),
			http.StatusUnauthorized, "invalid_client")
		wantOAuthError(t, "replay without a secret", postForm(t, tokURL, refreshForm(tok0.RefreshToken, "client_id", id), "", ""),
			http.StatusUnauthorized, "invalid_client")
		if r := postForm(t, tokURL, refreshForm(tok0.RefreshToken), "", ""); r.status < 400 || r.str("access_token") != "" {
			t.Errorf("replay without any client: %d %s", r.status, r.raw)
		}

		// The client itself still gets the same pair: the failures above
		// neither revoked the grant nor spent the grace answer.
		ok := postForm(t, tokURL, refreshForm(tok0.RefreshToken), id, a.conf.ClientSecret)
		if ok.status != http.StatusOK || ok.str("access_token") != tok1.AccessToken || ok.str("refresh_token") != tok1.RefreshToken {
			t.Fatalf("replay by the client inside the window: %d, same pair %v: %s", ok.status,
				ok.str("refresh_token") == tok1.RefreshToken, ok.raw)
		}

		// Racing the client's own rotation gains nothing without its secret.
		tok0, _, _, _ = r.codeFlow(t, newBrowser(t, a.s), a.s, a.alice)
		var (
			wg      sync.WaitGroup
			legit   reply
			attacks = make([]reply, 6)
		)
		for i := range attacks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i == 0 {
					legit = postForm(t, tokURL, refreshForm(tok0.RefreshToken), id, a.conf.ClientSecret)
					return
				}
				attacks[i] = postForm(t, tokURL, refreshForm(tok0.RefreshToken, "client_id", id), "", "")
			}()
		}
		wg.Wait()
		if legit.status != http.StatusOK || legit.str("refresh_token") == "" {
			t.Fatalf("the client's rotation: %d %s", legit.status, legit.raw)
		}
		for _, r := range attacks[1:] {
			wantOAuthError(t, "concurrent refresh without the secret", r, http.StatusUnauthorized, "invalid_client")
		}
		wantActive(t, "refresh token of the client's rotation", introspect(t, a.m, a.conf, legit.str("refresh_token")))
	})
}

// TestE2ERefreshReuseInsideGrace: once the new refresh token has itself
// been used, the old one is reuse even inside the grace window, and reuse
// revokes the whole grant (OAuth 2.0 Security BCP §4.14.2).
func TestE2ERefreshReuseInsideGrace(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		a := newAuthCodeSetup(t, e, "--refresh-grace", "1m")
		r := newRP(t, a.s, a.conf, "openid")
		tok0, _, _, _ := r.codeFlow(t, newBrowser(t, a.s), a.s, a.alice)
		tok1, err := r.refresh(tok0.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		tok2, err := r.refresh(tok1.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		// The latest rotation is still inside its grace.
		again, err := r.refresh(tok1.RefreshToken)
		if err != nil || again.RefreshToken != tok2.RefreshToken || again.AccessToken != tok2.AccessToken {
			t.Fatalf("replay of the latest rotated token inside the window: err %v, same pair %v", err,
				err == nil && again.RefreshToken == tok2.RefreshToken)
		}

		_, err = r.refresh(tok0.RefreshToken)
		if code := retrieveError(t, err); code != "invalid_grant" {
			t.Errorf("reuse of a token whose successor was used: %q, want invalid_grant", code)
		}
		wantInactive(t, "newest refresh token after reuse", introspect(t, a.m, a.conf, tok2.RefreshToken))
		wantInactive(t, "newest access token after reuse", introspect(t, a.m, a.conf, tok2.AccessToken))
		wantInactive(t, "older access token after reuse", introspect(t, a.m, a.conf, tok1.AccessToken))
		if _, err := r.refresh(tok2.RefreshToken); err == nil {
			t.Error("the newest refresh token still works after the grant was revoked")
		}
		if _, err := r.refresh(tok1.RefreshToken); err == nil {
			t.Error("the grace answer is still served after the grant was revoked")
		}
	})
}

// TestE2ETokenClientMismatch: RFC 6749 §2.3 — a body client_id other than
// the client of the Authorization header is invalid_request; a public
// client may not use client_credentials (unauthorized_client).
func TestE2ETokenClientMismatch(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	a := newAuthCodeSetup(t, e)
	svc := e.newClient("--name", "svc", "--scope", "read")
	tokURL := a.m.TokenEndpoint
	cc := url.Values{"grant_type": {"client_credentials"}}

	mismatch := url.Values{"grant_type": {"client_credentials"}, "client_id": {a.conf.ClientID}}
	wantOAuthError(t, "Basic and another body client_id", postForm(t, tokURL, mismatch, svc.ClientID, svc.ClientSecret),
		http.StatusBadRequest, "invalid_request")
	same := url.Values{"grant_type": {"client_credentials"}, "client_id": {svc.ClientID}}
	if r := postForm(t, tokURL, same, svc.ClientID, svc.ClientSecret); r.status != http.StatusOK {
		t.Errorf("Basic and the same body client_id: %d %s", r.status, r.raw)
	}
	wantOAuthError(t, "public client with client_credentials",
		postForm(t, tokURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {a.public.ClientID}}, "", ""),
		http.StatusBadRequest, "unauthorized_client")
	wantOAuthError(t, "public client with client_credentials and a scope",
		postForm(t, tokURL, url.Values{"grant_type": {"client_credentials"}, "client_id": {a.public.ClientID}, "scope": {"read"}}, "", ""),
		http.StatusBadRequest, "unauthorized_client")
	wantOAuthError(t, "confidential client without the grant", postForm(t, tokURL, cc, a.conf.ClientID, a.conf.ClientSecret),
		http.StatusBadRequest, "unauthorized_client")
}
