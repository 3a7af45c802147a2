package signing

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// TestES256DirectMatchesJOSE: a token Sign makes with crypto/ecdsa has
// go-jose's protected header byte for byte and the same payload segment,
// and its signature verifies with go-jose against the published key, for
// enough tokens that some have an r or s shorter than 32 bytes.
func TestES256DirectMatchesJOSE(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	m, err := newMaterial("kid-1", ES256, priv)
	if err != nil {
		t.Fatal(err)
	}
	if m.es256 == nil {
		t.Fatal("an in-memory P-256 key does not take the direct path")
	}
	payload := []byte(`{"aud":["c"],"iss":"https://issuer.example","scope":"a b","sub":"c"}`)
	for _, typ := range []string{"at+jwt", "JWT", ""} {
		var header map[string]any
		if typ != "" {
			header = map[string]any{"typ": typ}
		}
		want, err := m.signJOSE(payload, header)
		if err != nil {
			t.Fatal(err)
		}
		head, err := m.protectedHeader(typ)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 1500 {
			got, err := m.signES256(head, payload)
			if err != nil {
				t.Fatal(err)
			}
			g, w := strings.Split(got, "."), strings.Split(want, ".")
			if len(g) != 3 || g[0] != w[0] || g[1] != w[1] {
				t.Fatalf("typ %q: direct %s.%s, go-jose %s.%s", typ, g[0], g[1], w[0], w[1])
			}
			jws, err := jose.ParseSigned(got, []jose.SignatureAlgorithm{jose.ES256})
			if err != nil {
				t.Fatalf("typ %q, token %d: go-jose cannot parse it: %v", typ, i, err)
			}
			out, err := jws.Verify(m.public)
			if err != nil || string(out) != string(payload) {
				t.Fatalf("typ %q, token %d: go-jose verification: %v", typ, i, err)
			}
			if i > 10 && typ != "at+jwt" {
				break
			}
		}
	}
	h, _ := m.protectedHeader("at+jwt")
	dec, _ := base64.RawURLEncoding.DecodeString(h)
	if string(dec) != `{"alg":"ES256","kid":"kid-1","typ":"at+jwt"}` {
		t.Fatalf("protected header %s", dec)
	}
}

// TestES256DirectOnlyForP256: keys of other algorithms sign through go-jose.
func TestES256DirectOnlyForP256(t *testing.T) {
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	if es256Key(ES256, p384) != nil || es256Key(RS256, rsaKey) != nil || es256Key("ES384", p384) != nil {
		t.Fatal("the direct ES256 path took a key that is not an ES256 P-256 key")
	}
}

// TestRawSignature: DER INTEGERs of every length from 1 to 33 bytes (a
// leading zero for a high bit) land right-aligned; longer or empty ones
// and trailing garbage are refused.
func TestRawSignature(t *testing.T) {
	der := func(r, s []byte) []byte {
		enc := func(v []byte) []byte { return append([]byte{0x02, byte(len(v))}, v...) }
		body := append(enc(r), enc(s)...)
		return append([]byte{0x30, byte(len(body))}, body...)
	}
	for n := 1; n <= 32; n++ {
		r := make([]byte, n)
		for i := range r {
			r[i] = byte(i + 1)
		}
		s := append([]byte{0x00, 0x80}, make([]byte, 31)...) // 33 bytes: a leading zero
		var out [64]byte
		if !rawSignature(der(r, s), out[:]) {
			t.Fatalf("r of %d bytes refused", n)
		}
		want := fmt.Sprintf("%x%x", append(make([]byte, 32-n), r...), s[1:])
		if got := fmt.Sprintf("%x", out[:]); got != want {
			t.Fatalf("r of %d bytes: %s, want %s", n, got, want)
		}
	}
	var out [64]byte
	for name, bad := range map[string][]byte{
		"r of 33 bytes":    der(append([]byte{0x01}, make([]byte, 32)...), []byte{1}),
		"empty s":          der([]byte{1}, nil),
		"trailing garbage": append(der([]byte{1}, []byte{2}), 0),
		"not a sequence":   {0x02, 0x01, 0x01},
	} {
		if rawSignature(bad, out[:]) {
			t.Errorf("%s accepted", name)
		}
	}
}
