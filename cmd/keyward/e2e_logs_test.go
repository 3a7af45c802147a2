package main

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// TestE2ELogsHoldNoSecrets runs every flow, including failures, and then
// searches the server's logs for each secret it saw.
func TestE2ELogsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		a := newAuthCodeSetup(t, e)
		svc := e.newClient("--name", "svc", "--grant-type", "client_credentials", "--scope", "read")
		ctx := context.Background()
		secrets := map[string]string{
			"client secret (svc)":     svc.ClientSecret,
			"client secret (web app)": a.conf.ClientSecret,
			"password (alice)":        a.alice.Password,
			"password (bob)":          a.bob.Password,
		}

		cc, err := (&clientcredentials.Config{ClientID: svc.ClientID, ClientSecret: svc.ClientSecret, TokenURL: a.m.TokenEndpoint}).Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		secrets["client-credentials access token"] = cc.AccessToken

		// A failed sign-in with a wrong password, then the whole flow.
		r := newRP(t, a.s, a.conf, "openid", "profile", "email")
		b := newBrowser(t, a.s)
		req := r.authRequest(t)
		p := b.get(req.url)
		wrong := a.alice
		wrong.Password = "wrong-" + randString(t, 12)
		secrets["wrong password"] = wrong.Password
		if p = b.login(p, wrong); p.status != 401 || !isLoginPage(t, p) {
			t.Fatalf("wrong password: %d", p.status)
		}
		p = b.login(p, a.alice)
		q := callback(t, b.decide(p, "allow"), e2eRedirect)
		secrets["authorization code"] = q.Get("code")
		secrets["PKCE verifier"] = req.verifier
		tok, err := r.cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(req.verifier))
		if err != nil {
			t.Fatal(err)
		}
		secrets["access token"] = tok.AccessToken
		secrets["refresh token"] = tok.RefreshToken
		secrets["ID token"], _ = tok.Extra("id_token").(string)
		// A replay (which revokes the grant) logs an error path too.
		if _, err := r.cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(req.verifier)); err == nil {
			t.Fatal("replayed code accepted")
		}
		tok, _, _, _ = r.codeFlow(t, b, a.s, a.alice)
		tok2, err := r.refresh(tok.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		secrets["refresh token 2"] = tok.RefreshToken
		secrets["refresh token 3"] = tok2.RefreshToken
		secrets["access token 3"] = tok2.AccessToken
		if _, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok2)); err != nil {
			t.Fatal(err)
		}
		introspect(t, a.m, svc, tok2.AccessToken)
		introspect(t, a.m, svc, tok2.RefreshToken)
		postForm(t, a.m.RevocationEndpoint, url.Values{"token": {tok2.RefreshToken}}, a.conf.ClientID, a.conf.ClientSecret)
		// An API key through verification, introspection and token
		// exchange, and a mistyped copy of it.
		rs := e.newClient("--name", "resource server", "--scope", "read",
			"--grant-type", "client_credentials", "--grant-type", "urn:ietf:params:oauth:grant-type:token-exchange")
		secrets["client secret (resource server)"] = rs.ClientSecret
		var key struct{ Key string }
		e.runJSON(&key, "", "apikeys", "create", "--name", "logged", "--scope", "read")
		secrets["API key"] = key.Key
		if r := postJSON(t, a.s.PublicURL+"/v1/apikeys/verify", `{"key":"`+key.Key+`"}`, rs); r.json["valid"] != true {
			t.Fatalf("verify: %d %s", r.status, r.raw)
		}
		postJSON(t, a.s.PublicURL+"/v1/apikeys/verify", `{"key":"`+key.Key+`x"}`, rs)
		if r := introspect(t, a.m, rs, key.Key); r.json["active"] != true {
			t.Fatalf("introspect API key: %s", r.raw)
		}
		ex := postForm(t, a.m.TokenEndpoint, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"},
			"subject_token_type": {"urn:keyward:token-type:api_key"}, "subject_token": {key.Key}}, rs.ClientID, rs.ClientSecret)
		if ex.status != 200 {
			t.Fatalf("token exchange: %d %s", ex.status, ex.raw)
		}
		secrets["exchanged access token"], _ = ex.json["access_token"].(string)
		postForm(t, a.m.TokenEndpoint, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"},
			"subject_token_type": {"urn:keyward:token-type:api_key"}, "subject_token": {key.Key + "x"}}, rs.ClientID, rs.ClientSecret)

		// Credentials in the wrong places: the query string, a bad secret.
		postForm(t, a.m.TokenEndpoint+"?client_secret="+url.QueryEscape(svc.ClientSecret), url.Values{"grant_type": {"client_credentials"}}, svc.ClientID, svc.ClientSecret+"x")
		a.s.stop()

		logs := a.s.logs.String() + a.s.stdout.String()
		if !strings.Contains(logs, `"msg":"request"`) {
			t.Fatalf("no request logs captured:\n%.500s", logs)
		}
		for what, secret := range secrets {
			if secret == "" {
				t.Errorf("%s: empty", what)
				continue
			}
			if strings.Contains(logs, secret) {
				t.Errorf("the logs hold the %s", what)
			}
			// Parts of tokens (a JWT signature, the secret half of an
			// opaque token) must not appear either.
			for _, sep := range []string{".", "_"} {
				if i := strings.LastIndex(secret, sep); i > 0 && len(secret)-i > 16 && strings.Contains(logs, secret[i+1:]) {
					t.Errorf("the logs hold part of the %s", what)
				}
			}
		}
	})
}
