package authz

import "testing"

// TestOpaqueAnswerMatchesMap: the typed opaque-token answer encodes to the
// bytes of the map it replaced, for every optional member and awkward
// strings.
func TestOpaqueAnswerMatchesMap(t *testing.T) {
	strs := []string{"", "app", "https://api.example/x?a=1&b=2", "<tag>", `q"`, `b\s`, "ü", "\u2028", "bad\xff", "\x01"}
	n := 0
	for i, s := range strs {
		next := strs[(i+1)%len(strs)]
		for _, aud := range [][]string{nil, {}, {s}, {s, next}} {
			for _, jkt := range []string{"", next} {
				for _, exp := range []int64{0, 1 << 40} {
					for _, use := range []string{"access_token", "refresh_token"} {
						a := opaqueAnswer{Aud: aud, ClientID: s, JKT: jkt, Exp: exp, Iat: int64(i) - 3, Iss: next,
							Scope: s, Sub: next, TokenType: "Bearer", TokenUse: use}
						if use == "refresh_token" {
							a.TokenType = "refresh_token"
						}
						old := map[string]any{"active": true, "scope": a.Scope, "client_id": a.ClientID, "sub": a.Sub,
							"iat": a.Iat, "iss": a.Iss, "token_use": a.TokenUse, "token_type": a.TokenType}
						setAudience(old, a.Aud)
						if exp != 0 {
							old["exp"] = exp
						}
						if use == "access_token" {
							setDPoP(old, jkt)
						} else {
							a.JKT = ""
						}
						if jkt != "" && use == "access_token" {
							a.TokenType = "DPoP"
						}
						if got, want := string(a.appendJSON([]byte("x"))), "x"+string(mustJSON(old)); got != want {
							t.Errorf("\n got %s\nwant %s", got, want)
						}
						n++
					}
				}
			}
		}
	}
	if n < 300 {
		t.Fatalf("only %d cases", n)
	}
}
