package signing_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/keyward/keyward/keys/signing"
)

// TestVerifyTypedAgrees: VerifyTyped answers as Verify (and the typ
// header) for tokens as Sign writes them and for every variation of their
// header, encoding and signature, whichever of its two paths it takes;
// and it takes its own path for the tokens Sign writes.
func TestVerifyTypedAgrees(t *testing.T) {
	s := newService(t, openSQLite(t), signing.Config{Now: newClock().Now})
	bootstrap(t, s)
	es := s.ActiveKID(signing.ES256)
	claims := map[string]any{"iss": "https://issuer.example", "sub": "alice", "scope": "a b", "exp": 1 << 40}
	tok, err := s.SignClaims(ctx(), signing.ES256, claims, map[string]any{"typ": "at+jwt"})
	if err != nil {
		t.Fatal(err)
	}
	if !signing.TakesES256Path(s, tok) {
		t.Fatal("a token as Sign writes it does not take the ES256 path")
	}
	b64 := base64.RawURLEncoding.EncodeToString
	payload := strings.Split(tok, ".")[1]
	// signed returns a token of header and payload signed by the active
	// ES256 key.
	signed := func(header, body string) string {
		input := header + "." + body
		sig, err := signing.SignInputES256(s, input)
		if err != nil {
			t.Fatal(err)
		}
		return input + "." + b64(sig)
	}
	h := func(s string) string { return b64([]byte(s)) }
	other := sign(t, s, signing.RS256, claims)
	tokens := []string{
		tok, other, sign(t, s, signing.EdDSA, claims), sign(t, s, signing.ES256, claims), "", ".", "..", "a.b.c", "not.a.token",
		tok + ".", tok + "x", tok[:len(tok)-1], strings.Replace(tok, ".", "..", 1), tok + "=", "\n" + tok,
		signed(h(`{"alg":"ES256","kid":"`+es+`","typ":"at+jwt"}`), payload),
		signed(h(`{"typ":"at+jwt","kid":"`+es+`","alg":"ES256"}`), payload),
		signed(h(` { "alg" : "ES256" , "kid" : "`+es+`" } `), payload),
		signed(h(`{"alg":"ES256","kid":"`+es+`"}`), payload),
		signed(h(`{"alg":"ES256","kid":"`+es+`","typ":"JWT"}`), payload),
		signed(h(`{"alg":"ES256","kid":"`+es+`","typ":"application/AT+JWT"}`), payload),
		signed(h(`{"alg":"ES256","kid":"`+es+`","typ":"at\u002bjwt"}`), payload),
		signed(h(`{"alg":"ES256","kid":"`+es+`","typ":""}`), payload),
		signed(h(`{"alg":"ES256","kid":"`+es+`","typ":"at+jwt","cty":"x"}`), payload),
		signed(h(`{"alg":"ES256","kid":"`+es+`","crit":["exp"],"exp":1}`), payload),
		signed(h(`{"alg":"ES256","kid":"`+es+`","b64":false,"crit":["b64"]}`), payload),
		signed(h(`{"alg":"ES256","kid":"`+es+`","alg":"ES256"}`), payload),
		signed(h(`{"alg":"ES256","kid":"`+es+`","kid":"other"}`), payload),
		signed(h(`{"alg":"ES256","kid":"other"}`), payload),
		signed(h(`{"alg":"ES256"}`), payload),
		signed(h(`{"kid":"`+es+`"}`), payload),
		signed(h(`{"alg":"RS256","kid":"`+es+`"}`), payload),
		signed(h(`{"alg":"none","kid":"`+es+`"}`), payload),
		signed(h(`{"alg":"es256","kid":"`+es+`"}`), payload),
		signed(h(`{"ALG":"ES256","kid":"`+es+`"}`), payload),
		signed(h(`{"alg":"ES256","kid":"`+s.ActiveKID(signing.RS256)+`"}`), payload),
		signed(h(`{"alg":"ES256","kid":"`+es+`"} `), payload),
		signed(h(`{"alg":"ES256","kid":"`+es+`"}x`), payload),
		signed(h(`{"alg":"ES256","kid":"`+es+`",}`), payload),
		signed(h(`{"alg":"ES256","kid":"`+es+`","typ":null}`), payload),
		signed(h(`{"alg":"ES256","kid":"`+es+`","typ":1}`), payload),
		signed(h(`[]`), payload),
		signed(h(`{}`), payload),
		signed(h(`{"alg":"ES256","kid":"`+es+`"}`), ""),
		signed(h(`{"alg":"ES256","kid":"`+es+`"}`), h("not json")),
		signed(h(`{"alg":"ES256","kid":"`+es+`"}`)+"=", payload),
	}
	// Non-canonical base64: the same bytes with a last character whose
	// unused bits are set, in each segment.
	for i := range 3 {
		parts := strings.Split(tok, ".")
		if last := parts[i][len(parts[i])-1]; len(parts[i])%4 != 0 {
			dec, _ := base64.RawURLEncoding.DecodeString(parts[i])
			for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" {
				alt := parts[i][:len(parts[i])-1] + string(c)
				if byte(c) == last {
					continue
				}
				if d2, err := base64.RawURLEncoding.DecodeString(alt); err == nil && string(d2) == string(dec) {
					parts[i] = alt
					tokens = append(tokens, strings.Join(parts, "."))
					break
				}
			}
		}
		parts = strings.Split(tok, ".")
		parts[i] = parts[i][:10] + "\n" + parts[i][10:]
		tokens = append(tokens, strings.Join(parts, "."))
	}
	// Random alterations of the good token.
	rng := rand.New(rand.NewPCG(5, 6))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.="
	for range 300 {
		b := []byte(tok)
		b[rng.IntN(len(b))] = alphabet[rng.IntN(len(alphabet))]
		tokens = append(tokens, string(b))
	}
	own := 0
	for _, tk := range tokens {
		wantPayload, wantKID, wantErr := s.Verify(tk, signing.ES256)
		gotPayload, gotKID, gotTyp, gotErr := s.VerifyTyped(tk, signing.ES256)
		if signing.TakesES256Path(s, tk) {
			own++
		}
		switch {
		case (wantErr == nil) != (gotErr == nil),
			wantErr != nil && errors.Is(wantErr, signing.ErrUnknownKey) != errors.Is(gotErr, signing.ErrUnknownKey),
			wantErr != nil && errors.Is(wantErr, signing.ErrInvalidToken) != errors.Is(gotErr, signing.ErrInvalidToken):
			t.Fatalf("%q: VerifyTyped %v, Verify %v", tk, gotErr, wantErr)
		case wantErr == nil && (string(gotPayload) != string(wantPayload) || gotKID != wantKID):
			t.Fatalf("%q: VerifyTyped %q %s, Verify %q %s", tk, gotPayload, gotKID, wantPayload, wantKID)
		case wantErr == nil && gotTyp != typOf(tk):
			t.Fatalf("%q: typ %q, want %q", tk, gotTyp, typOf(tk))
		}
	}
	if own < 50 {
		t.Fatalf("only %d of %d tokens took the ES256 path", own, len(tokens))
	}
}

// typOf decodes a token's header the slow way.
func typOf(tok string) string {
	head, _, _ := strings.Cut(tok, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(head)
	var h struct {
		Typ string `json:"typ"`
	}
	json.Unmarshal(raw, &h)
	return h.Typ
}
