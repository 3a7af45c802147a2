package authz

import (
	"encoding/json"
	"testing"
)

// claimsMap is how the token endpoint built an access token's claims
// before accessTokenClaims: a map that encoding/json serialized.
func claimsMap(c *accessTokenClaims) map[string]any {
	m := map[string]any{
		"iss":       c.Issuer,
		"sub":       c.Subject,
		"aud":       c.Audience,
		"exp":       c.ExpiresAt,
		"iat":       c.IssuedAt,
		"nbf":       c.NotBefore,
		"jti":       c.JTI,
		"client_id": c.ClientID,
		"scope":     c.Scope,
	}
	if c.AuthTime != 0 {
		m["auth_time"] = c.AuthTime
	}
	if c.DPoPJKT != "" {
		m["cnf"] = map[string]any{"jkt": c.DPoPJKT}
	}
	if c.APIKeyID != "" {
		m[claimAPIKey], m[claimAPIKeySecret] = c.APIKeyID, c.APIKeySecret
	}
	return m
}

// TestAccessClaimsMatchMap: the typed claims serialize to the bytes the
// map of the same claims gave, with every optional claim on and off and
// strings that encoding/json escapes.
func TestAccessClaimsMatchMap(t *testing.T) {
	base := accessTokenClaims{Issuer: "https://issuer.example", Subject: "c_1", Audience: []string{"c_1"},
		ExpiresAt: 1_900_000_000, IssuedAt: 1_899_996_400, NotBefore: 1_899_996_400, JTI: "q9Xk-_aZ", ClientID: "c_1", Scope: "read write"}
	cases := map[string]func(c *accessTokenClaims){
		"client credentials": func(c *accessTokenClaims) {},
		"user with auth_time": func(c *accessTokenClaims) {
			c.Subject, c.AuthTime = "u_42", 1_899_990_000
		},
		"DPoP-bound":         func(c *accessTokenClaims) { c.DPoPJKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I" },
		"exchanged API key":  func(c *accessTokenClaims) { c.APIKeyID, c.APIKeySecret = "ak_1", 1_764_950_400_123_456 },
		"several audiences":  func(c *accessTokenClaims) { c.Audience = []string{"https://api.example/a?x=1&y=<2>", "urn:b"} },
		"empty audience":     func(c *accessTokenClaims) { c.Audience = []string{} },
		"nil audience":       func(c *accessTokenClaims) { c.Audience = nil },
		"empty scope":        func(c *accessTokenClaims) { c.Scope = "" },
		"negative times":     func(c *accessTokenClaims) { c.ExpiresAt, c.AuthTime, c.APIKeyID, c.APIKeySecret = -1, -2, "k", -3 },
		"escaped characters": func(c *accessTokenClaims) { c.Scope = "a\"b\\c\n\t\r\b\f\x00\x1f<>&\u2028\u2029é😀\xff\xc3" },
		"everything": func(c *accessTokenClaims) {
			c.AuthTime, c.DPoPJKT, c.APIKeyID, c.APIKeySecret = 1, "jkt", "ak", 2
			c.Issuer = "http://127.0.0.1:8080/"
		},
	}
	for name, edit := range cases {
		c := base
		edit(&c)
		want, err := json.Marshal(claimsMap(&c))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.appendJSON(nil); string(got) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
}

// TestAccessResponseJSON: token responses serialize as encoding/json
// writes the same map, and a member of another type is left to fosite.
func TestAccessResponseJSON(t *testing.T) {
	for _, m := range []map[string]any{
		{"access_token": "eyJ.a.b", "token_type": "bearer", "expires_in": int64(3599), "scope": "read write"},
		{"access_token": "kw_at_x", "token_type": "DPoP", "expires_in": int64(0), "scope": "", "refresh_token": "kw_rt_y",
			"id_token": "h.p.s", "issued_token_type": "urn:ietf:params:oauth:token-type:access_token"},
		{"access_token": "a<b>&\u2028", "expires_in": -5, "token_type": "bearer"},
		{},
	} {
		want, _ := json.Marshal(m)
		got, ok := accessResponseJSON(nil, m)
		if !ok || string(got) != string(want) {
			t.Errorf("got %s (%v), want %s", got, ok, want)
		}
		// Appended to a buffer, short or roomy, after what it holds.
		for _, dst := range [][]byte{[]byte("pre"), append(make([]byte, 0, 1024), "pre"...)} {
			if got, ok := accessResponseJSON(dst, m); !ok || string(got) != "pre"+string(want) {
				t.Errorf("appended: got %s (%v), want pre%s", got, ok, want)
			}
		}
	}
	for _, v := range []any{1.5, true, nil, []string{"a"}, map[string]any{}, int32(1)} {
		if got, ok := accessResponseJSON(nil, map[string]any{"access_token": "t", "x": v}); ok {
			t.Errorf("%T written: %s", v, got)
		}
	}
}
