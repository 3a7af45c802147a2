package authz

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/ory/fosite/token/jwt"
)

// recordingSigner remembers what it was asked to sign.
type recordingSigner struct {
	alg, typ string
	payload  []byte
}

func (r *recordingSigner) Sign(_ context.Context, alg, typ string, payload []byte) (string, error) {
	r.alg, r.typ, r.payload = alg, typ, append([]byte(nil), payload...)
	return "h.p.s", nil
}

func (r *recordingSigner) Verify(string, ...string) ([]byte, string, error) { return nil, "", nil }

// TestIDTokenSignerHeaders: an ID token is signed with the session's alg
// and typ JWT unless the header names another typ; alg and kid in the
// session's header are the signer's to set, and any other member is
// refused rather than dropped.
func TestIDTokenSignerHeaders(t *testing.T) {
	rec := &recordingSigner{}
	s := &idTokenSigner{signer: rec, now: time.Now}
	claims := jwt.MapClaims{"sub": "u", "aud": []string{"c"}, "at_hash": "x"}
	for _, tc := range []struct {
		header        map[string]any
		wantAlg, want string
	}{
		{nil, DefaultIDTokenAlg, "JWT"},
		{map[string]any{"alg": "ES256"}, "ES256", "JWT"},
		{map[string]any{"alg": "EdDSA", "kid": "k", "typ": "logout+jwt"}, "EdDSA", "logout+jwt"},
	} {
		if _, _, err := s.Generate(context.Background(), claims, &jwt.Headers{Extra: tc.header}); err != nil {
			t.Fatalf("%v: %v", tc.header, err)
		}
		if rec.alg != tc.wantAlg || rec.typ != tc.want {
			t.Errorf("%v: signed %s with typ %q, want %s and %q", tc.header, rec.alg, rec.typ, tc.wantAlg, tc.want)
		}
		var got map[string]any
		if err := json.Unmarshal(rec.payload, &got); err != nil || got["sub"] != "u" {
			t.Errorf("%v: payload %s", tc.header, rec.payload)
		}
		if _, hasHash := got["at_hash"]; hasHash == (tc.wantAlg == "EdDSA") {
			t.Errorf("%v: at_hash present %v with %s", tc.header, hasHash, tc.wantAlg)
		}
	}
	for _, bad := range []map[string]any{{"x-custom": "v"}, {"typ": 1}, {"typ": ""}} {
		if _, _, err := s.Generate(context.Background(), jwt.MapClaims{"sub": "u"}, &jwt.Headers{Extra: bad}); err == nil {
			t.Errorf("header %v accepted", bad)
		}
	}
}
