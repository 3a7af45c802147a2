package main

import (
	"context"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

// TestIDTokenAlgorithmPerClient: ID tokens are RS256 by default, and a
// client registered with another algorithm gets it, signed by that
// algorithm's active key from the JWKS (issue 4; OIDC Core §15.1).
func TestIDTokenAlgorithmPerClient(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	alice := e.newUser("alice", "alice-password-1", "alice@example.com", "Alice")
	s := e.serve()
	for _, alg := range []string{"", "ES256", "EdDSA"} {
		t.Run("alg="+alg, func(t *testing.T) {
			args := []string{"--name", "RP " + alg, "--grant-type", "authorization_code", "--redirect-uri", e2eRedirect,
				"--scope", "openid profile", "--skip-consent"}
			if alg != "" {
				args = append(args, "--id-token-alg", alg)
			}
			c := e.newClient(args...)
			r := newRP(t, s, c, "openid", "profile")
			want := alg
			if want == "" {
				want = "RS256"
			}
			r.verifier = r.provider.Verifier(&oidc.Config{ClientID: c.ClientID, SupportedSigningAlgs: []string{want}})
			a := r.authRequest(t)
			q, _, _ := r.authorize(t, newBrowser(t, s), s, alice, a)
			tok, err := r.cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(a.verifier))
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := tok.Extra("id_token").(string)
			jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
			if err != nil {
				t.Fatal(err)
			}
			h := jws.Signatures[0].Header
			if h.Algorithm != want || !hasKID(fetchJWKS(t, s), h.KeyID) {
				t.Fatalf("ID token alg %q kid %q; want %s with a published kid", h.Algorithm, h.KeyID, want)
			}
			if _, err := r.verifier.Verify(context.Background(), raw); err != nil {
				t.Fatalf("go-oidc: %v", err)
			}
		})
	}
}
