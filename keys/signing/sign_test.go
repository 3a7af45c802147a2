package signing_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/keyward/keyward/keys/signing"
)

func header(t *testing.T, tok string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestSignVerify(t *testing.T) {
	s := newService(t, openSQLite(t), signing.Config{Now: newClock().Now})
	bootstrap(t, s)
	for _, alg := range s.Algorithms() {
		t.Run(alg, func(t *testing.T) {
			claims := map[string]any{"sub": "alice", "scope": "a b"}
			tok, err := s.SignClaims(ctx(), alg, claims, map[string]any{"typ": "at+jwt"})
			if err != nil {
				t.Fatal(err)
			}
			h := header(t, tok)
			if h["alg"] != alg || h["kid"] != s.ActiveKID(alg) || h["typ"] != "at+jwt" || len(h) != 3 {
				t.Fatalf("header %v", h)
			}
			payload, kid, err := s.Verify(tok)
			if err != nil || kid != s.ActiveKID(alg) {
				t.Fatalf("Verify: %s %v", kid, err)
			}
			var got map[string]any
			json.Unmarshal(payload, &got)
			if got["sub"] != "alice" || got["scope"] != "a b" {
				t.Fatalf("payload %s", payload)
			}
			if _, _, err := s.Verify(tok, "RS256", "ES256", "EdDSA"); err != nil {
				t.Fatalf("Verify with all algorithms allowed: %v", err)
			}
			other := signing.ES256
			if alg == signing.ES256 {
				other = signing.RS256
			}
			if _, _, err := s.Verify(tok, other); !errors.Is(err, signing.ErrInvalidToken) {
				t.Fatalf("Verify with only %s allowed: %v", other, err)
			}
			parts := strings.Split(tok, ".")
			body, _ := json.Marshal(map[string]any{"sub": "mallory"})
			forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString(body) + "." + parts[2]
			if _, _, err := s.Verify(forged); !errors.Is(err, signing.ErrInvalidToken) {
				t.Fatalf("forged payload: %v", err)
			}
		})
	}
}

func TestSignHeaders(t *testing.T) {
	s := newService(t, openSQLite(t), signing.Config{Now: newClock().Now, Algorithms: []string{signing.EdDSA}})
	bootstrap(t, s)
	tok, err := s.SignClaims(ctx(), "", map[string]any{"n": 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h := header(t, tok); h["alg"] != "EdDSA" || len(h) != 2 {
		t.Fatalf("default header %v", h)
	}
	tok, err = s.SignClaims(ctx(), "", nil, map[string]any{"typ": "JWT", "x-n": 2})
	if err != nil {
		t.Fatal(err)
	}
	if h := header(t, tok); h["typ"] != "JWT" || h["x-n"] != 2.0 {
		t.Fatalf("header %v", h)
	}
	for _, reserved := range []string{"alg", "kid", "jku", "crit"} {
		if _, err := s.SignClaims(ctx(), "", nil, map[string]any{reserved: "x"}); err == nil {
			t.Errorf("header %q accepted", reserved)
		}
	}
	if _, err := s.SignClaims(ctx(), signing.RS256, nil, nil); !errors.Is(err, signing.ErrNoActiveKey) {
		t.Fatalf("Sign with an unconfigured algorithm: %v", err)
	}
	// Many distinct headers at once: the signer cache stays consistent.
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := s.SignClaims(ctx(), "", map[string]any{"i": i}, map[string]any{"typ": fmt.Sprint("t", i%20)})
			if err != nil {
				t.Error(err)
				return
			}
			if _, _, err := s.Verify(tok); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

// TestVerifyAlgorithmConfusion: a token whose header names another
// algorithm than its key's is refused (RFC 8725 §2.1).
func TestVerifyAlgorithmConfusion(t *testing.T) {
	s := newService(t, openSQLite(t), signing.Config{Now: newClock().Now})
	bootstrap(t, s)
	rsKID := s.ActiveKID(signing.RS256)
	// An HMAC token keyed with the RSA public key, claiming the RSA kid.
	var pub jose.JSONWebKey
	for _, k := range s.Public().Keys {
		if k.KeyID == rsKID {
			pub = k
		}
	}
	pubJSON, _ := json.Marshal(pub)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: pubJSON},
		(&jose.SignerOptions{}).WithHeader("kid", rsKID))
	if err != nil {
		t.Fatal(err)
	}
	jws, _ := signer.Sign([]byte(`{"sub":"mallory"}`))
	tok, _ := jws.CompactSerialize()
	if _, _, err := s.Verify(tok); !errors.Is(err, signing.ErrInvalidToken) {
		t.Fatalf("HS256 token: %v", err)
	}
	if _, _, err := s.Verify(tok, "HS256"); !errors.Is(err, signing.ErrInvalidToken) {
		t.Fatalf("HS256 token with HS256 allowed: %v", err)
	}
	// An ES256 key's kid on an EdDSA-signed token.
	esKID := s.ActiveKID(signing.ES256)
	edTok := sign(t, s, signing.EdDSA, map[string]any{})
	h := header(t, edTok)
	h["kid"] = esKID
	hb, _ := json.Marshal(h)
	parts := strings.Split(edTok, ".")
	swapped := base64.RawURLEncoding.EncodeToString(hb) + "." + parts[1] + "." + parts[2]
	if _, _, err := s.Verify(swapped); !errors.Is(err, signing.ErrInvalidToken) {
		t.Fatalf("kid swapped: %v", err)
	}
	if _, _, err := s.Verify("not.a.token"); !errors.Is(err, signing.ErrInvalidToken) {
		t.Fatalf("garbage: %v", err)
	}
}

// TestNextKeyVerifies: a next key is published, so a token it signs (on
// another instance that rotated first) already verifies here.
func TestNextKeyVerifies(t *testing.T) {
	db := openSQLite(t)
	a := newService(t, db, signing.Config{Now: newClock().Now})
	bootstrap(t, a)
	b := newService(t, db, signing.Config{Now: newClock().Now})
	if err := b.Reload(ctx()); err != nil {
		t.Fatal(err)
	}
	next := byState(t, a, signing.ES256, signing.StateNext)[0].KID
	// a rotates; b has not reloaded yet (no Run) but knows the next key.
	if _, err := a.Rotate(ctx(), signing.ES256, signing.RotateOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	tok := sign(t, a, signing.ES256, map[string]any{})
	if _, kid, err := b.Verify(tok); err != nil || kid != next {
		t.Fatalf("b.Verify: %s %v", kid, err)
	}
}
