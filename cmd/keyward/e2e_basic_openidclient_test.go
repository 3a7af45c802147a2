package main

import (
	"strings"
	"testing"
)

// TestE2EClientSecretBasicOpenIDClient proves the hot machine-to-machine
// path with independent libraries (testdata/basic_openid_client.mjs on
// Node.js): openid-client authenticates with client_secret_basic and gets
// client-credentials tokens (the token endpoint checks the secret once per
// request for its rate limit and fosite), jose verifies each ES256 access
// token against the JWKS (typ at+jwt, deterministic ECDSA nonces), and a
// resource server introspects with openid-client: active with the token's
// claims, inactive once revoked; a wrong secret is invalid_client. On both
// engines.
func TestE2EClientSecretBasicOpenIDClient(t *testing.T) {
	node, modules := npmPackage(t, "openid-client", openidClientVersion)
	engines(t, func(t *testing.T, e *env) {
		var got struct {
			scriptError
			Tokens []struct {
				AccessToken string `json:"access_token"`
				TokenType   string `json:"token_type"`
			} `json:"tokens"`
			Verified []struct {
				Payload map[string]any `json:"payload"`
				Header  map[string]any `json:"header"`
			} `json:"verified"`
			Introspected    map[string]any `json:"introspected"`
			WrongSecret     map[string]any `json:"wrong_secret"`
			AfterRevocation map[string]any `json:"after_revocation"`
			Other           map[string]any `json:"other"`
		}
		svc, s := clientCredentialsScript(t, e, node, modules, "basic_openid_client.mjs", &got, "--name", "svc")
		if len(got.Tokens) != 2 || len(got.Verified) != 2 || got.Tokens[0].AccessToken == got.Tokens[1].AccessToken {
			t.Fatalf("tokens %+v verified %+v", got.Tokens, got.Verified)
		}
		for i, v := range got.Verified {
			if !strings.EqualFold(got.Tokens[i].TokenType, "bearer") || v.Header["alg"] != "ES256" ||
				v.Payload["client_id"] != svc.ClientID || v.Payload["scope"] != "orders:read" || v.Payload["iss"] != s.PublicURL {
				t.Errorf("token %d: %s, header %v, claims %v", i, got.Tokens[i].TokenType, v.Header, v.Payload)
			}
		}
		in := got.Introspected
		if in["active"] != true || in["client_id"] != svc.ClientID || in["scope"] != "orders:read" ||
			in["jti"] != got.Verified[0].Payload["jti"] || in["exp"] != got.Verified[0].Payload["exp"] {
			t.Errorf("introspection: %v (claims %v)", in, got.Verified[0].Payload)
		}
		if body, _ := got.WrongSecret["body"].(map[string]any); got.WrongSecret["status"] != float64(401) || body["error"] != "invalid_client" {
			t.Errorf("wrong secret: %v", got.WrongSecret)
		}
		if got.AfterRevocation["active"] != false || len(got.AfterRevocation) != 1 {
			t.Errorf("after revocation: %v", got.AfterRevocation)
		}
		if got.Other["active"] != true {
			t.Errorf("the other token after the first's revocation: %v", got.Other)
		}
	})
}
