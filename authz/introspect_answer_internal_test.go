package authz

import (
	"encoding/json"
	"testing"
)

// TestTypedAnswersMatchMaps: the typed introspection answers encode to the
// bytes the maps they replaced gave (same members, same order).
func TestTypedAnswersMatchMaps(t *testing.T) {
	for _, c := range []*AccessClaims{
		{Issuer: "https://issuer.example", Subject: "alice", Audience: json.RawMessage(`"app"`), ExpiresAt: 2000,
			IssuedAt: 1000, NotBefore: 1000, JTI: "j1", ClientID: "app", Scope: "read write"},
		{Issuer: "https://issuer.example", Subject: "app", Audience: json.RawMessage(`["https://api.example","app"]`),
			ExpiresAt: 2000, IssuedAt: 1000, NotBefore: 999, JTI: "j<2>", ClientID: "app", Scope: "",
			Cnf: &Confirmation{JKT: "thumb"}},
		{Issuer: "i", ClientID: "c"},
	} {
		old := map[string]any{
			"active": true, "scope": c.Scope, "client_id": c.ClientID, "sub": c.Subject,
			"exp": c.ExpiresAt, "iat": c.IssuedAt, "nbf": c.NotBefore,
			"iss": c.Issuer, "jti": c.JTI, "token_type": "Bearer", "token_use": "access_token",
		}
		setAudience(old, c.Audiences())
		setDPoP(old, c.DPoPJKT())
		if got, want := string(mustJSON(newJWTAnswer(c))), string(mustJSON(old)); got != want {
			t.Errorf("JWT answer\n got %s\nwant %s", got, want)
		}
	}
	for _, exp := range []int64{0, 1234} {
		old := map[string]any{"active": true, "scope": "read", "sub": "apikey:k1", "token_type": "api_key",
			"iss": "https://issuer.example", "key_id": "k1"}
		if exp != 0 {
			old["exp"] = exp
		}
		typed := apiKeyAnswer{Active: true, Exp: exp, Iss: "https://issuer.example", KeyID: "k1", Scope: "read",
			Sub: "apikey:k1", TokenType: "api_key"}
		if got, want := string(mustJSON(typed)), string(mustJSON(old)); got != want {
			t.Errorf("API key answer\n got %s\nwant %s", got, want)
		}
	}
}
