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

// TestAnswerEncodersMatchReflection: the hand-written encoders of the
// introspection answers write what encoding/json writes of their structs.
func TestAnswerEncodersMatchReflection(t *testing.T) {
	strs := []string{"", "app", "https://api.example/x?a=1&b=2", "<tag>", "1<2", `q"`, `b\s`, "ü", "\u2028",
		"bad\xff", "\x01", "\x7f"}
	n := 0
	for i, s := range strs {
		next := strs[(i+1)%len(strs)]
		for _, aud := range [][]string{nil, {}, {s}, {s, next}} {
			for _, cnf := range []*Confirmation{nil, {}, {JKT: next}} {
				a := jwtAnswer{Active: i%2 == 0, Aud: aud, ClientID: s, Cnf: cnf, Exp: int64(i) * 1e9, Iat: -int64(i),
					Iss: next, JTI: s, Nbf: 0, Scope: next, Sub: s, TokenType: "Bearer", TokenUse: s}
				if got, want := string(a.appendJSON([]byte("x"))), "x"+string(mustJSON(a)); got != want {
					t.Errorf("JWT answer\n got %s\nwant %s", got, want)
				}
				n++
			}
		}
		for _, exp := range []int64{0, 1, -5, 1 << 40} {
			a := apiKeyAnswer{Active: i%2 == 1, Exp: exp, Iss: s, KeyID: next, Scope: s, Sub: next, TokenType: s}
			if got, want := string(a.appendJSON(nil)), string(mustJSON(a)); got != want {
				t.Errorf("API key answer\n got %s\nwant %s", got, want)
			}
			n++
		}
	}
	if n < 100 {
		t.Fatalf("only %d cases", n)
	}
}

// setAudience adds aud to an introspection answer map, as the answers
// were built before they were typed, unless it is empty: an
// empty list says nothing, and RFC 7662 §2.2 makes every member but
// active optional.
func setAudience(out map[string]any, aud []string) {
	if len(aud) > 0 {
		out["aud"] = aud
	}
}

// setDPoP marks a DPoP-bound access token in an introspection answer:
// token_type DPoP and cnf.jkt (RFC 9449 §6.2).
func setDPoP(out map[string]any, jkt string) {
	if jkt != "" {
		out["token_type"] = "DPoP"
		out["cnf"] = map[string]string{"jkt": jkt}
	}
}

// mustJSON is json.Marshal of v, the reference the hand-written answers
// are compared with.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
