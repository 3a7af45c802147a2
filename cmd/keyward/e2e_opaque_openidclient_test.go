package main

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestE2EOpaqueIntrospectionOpenIDClient: openid-client, as a resource
// server, introspects opaque access tokens (answered from their records,
// then from the cache, without fosite): active with the client, scope,
// subject and expiry, the same answer twice; a forged copy (the record's
// signature with another key part) and an unknown token inactive; the
// token inactive once revoked while the other stays active. On both
// engines.
func TestE2EOpaqueIntrospectionOpenIDClient(t *testing.T) {
	node, modules := npmPackage(t, "openid-client", openidClientVersion)
	engines(t, func(t *testing.T, e *env) {
		var got struct {
			scriptError
			Tokens []struct {
				AccessToken string  `json:"access_token"`
				ExpiresIn   float64 `json:"expires_in"`
			} `json:"tokens"`
			First, Again, Forged, Unknown, Other map[string]any
			AfterRevocation                      map[string]any `json:"after_revocation"`
		}
		svc, s := clientCredentialsScript(t, e, node, modules, "opaque_openid_client.mjs", &got,
			"--name", "opaque svc", "--access-token-format", "opaque")
		if len(got.Tokens) != 2 || !strings.HasPrefix(got.Tokens[0].AccessToken, "kw_at_") {
			t.Fatalf("tokens %+v", got.Tokens)
		}
		in := got.First
		exp, _ := in["exp"].(float64)
		left := time.Until(time.Unix(int64(exp), 0))
		if in["active"] != true || in["client_id"] != svc.ClientID || in["sub"] != svc.ClientID ||
			in["scope"] != "orders:read" || in["token_type"] != "Bearer" || in["token_use"] != "access_token" ||
			in["iss"] != s.PublicURL || left <= 0 || left > time.Duration(got.Tokens[0].ExpiresIn+5)*time.Second {
			t.Errorf("introspection: %v", in)
		}
		if !reflect.DeepEqual(got.Again, got.First) {
			t.Errorf("introspected again: %v, first %v", got.Again, got.First)
		}
		for name, a := range map[string]map[string]any{"forged": got.Forged, "unknown": got.Unknown,
			"revoked": got.AfterRevocation} {
			if a["active"] != false || len(a) != 1 {
				t.Errorf("%s token: %v", name, a)
			}
		}
		if got.Other["active"] != true || got.Other["client_id"] != svc.ClientID {
			t.Errorf("the other token after the first's revocation: %v", got.Other)
		}
	})
}
