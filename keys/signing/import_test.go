package signing_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// privateJWK returns the testdata PEM key as a private JWK with kid.
func privateJWK(t testing.TB, file, kid, alg string) []byte {
	t.Helper()
	block, _ := pem.Decode(readTestdata(t, file))
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: alg, Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestImport(t *testing.T) {
	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	weakPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(weak)})
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384DER, _ := x509.MarshalPKCS8PrivateKey(p384)
	p384PEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p384DER})
	pubJWK, _ := json.Marshal(jose.JSONWebKey{Key: weak.Public(), KeyID: "pub"})

	tests := []struct {
		name    string
		data    []byte
		alg     string
		wantAlg string
		wantKID string
		wantErr error
	}{
		{"PKCS8 EC", readTestdata(t, "es256.pem"), "", "ES256", "", nil},
		{"SEC1 EC with parameters", readTestdata(t, "es256-sec1.pem"), "ES256", "ES256", "", nil},
		{"PKCS1 RSA", readTestdata(t, "rs256-pkcs1.pem"), "", "RS256", "", nil},
		{"PKCS8 RSA", readTestdata(t, "rs256.pem"), "RS256", "RS256", "", nil},
		{"PKCS8 Ed25519", readTestdata(t, "eddsa.pem"), "", "EdDSA", "", nil},
		{"private JWK keeps its kid", privateJWK(t, "es256.pem", "legacy-1", "ES256"), "", "ES256", "legacy-1", nil},
		{"public JWK", pubJWK, "", "", "", signing.ErrBadKey},
		{"garbage", []byte("not a key"), "", "", "", signing.ErrBadKey},
		{"RSA 1024", weakPEM, "", "", "", signing.ErrBadKey},
		{"P-384", p384PEM, "", "", "", signing.ErrBadKey},
		{"wrong alg", readTestdata(t, "eddsa.pem"), "ES256", "", "", signing.ErrBadKey},
		{"JWK kid with a newline", privateJWK(t, "es256.pem", "a\nb", ""), "", "", "", signing.ErrBadKey},
		{"JWK alg disagrees", privateJWK(t, "es256.pem", "x", "ES256"), "RS256", "", "", signing.ErrBadKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newService(t, openSQLite(t), signing.Config{Now: newClock().Now})
			rec, err := s.Import(ctx(), tc.data, tc.alg, signing.StateActive)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v; want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rec.Alg != tc.wantAlg || rec.State != signing.StateActive || rec.Origin != signing.OriginImported {
				t.Fatalf("imported %+v", rec)
			}
			if tc.wantKID != "" && rec.KID != tc.wantKID {
				t.Fatalf("kid %q; want %q", rec.KID, tc.wantKID)
			}
			if s.ActiveKID(rec.Alg) != rec.KID {
				t.Fatal("the imported active key does not sign")
			}
			if _, err := s.Import(ctx(), tc.data, tc.alg, signing.StateActive); !errors.Is(err, store.ErrConflict) {
				t.Fatalf("second import: %v; want store.ErrConflict", err)
			}
		})
	}
}

// TestImportKeepsVerifying: tokens signed elsewhere with an imported key
// verify under its kid, and importing makes room by the life-cycle rules.
func TestImportStates(t *testing.T) {
	s := newService(t, openSQLite(t), signing.Config{Now: newClock().Now, Algorithms: []string{signing.ES256}})
	bootstrap(t, s)
	active := s.ActiveKID(signing.ES256)
	next := byState(t, s, signing.ES256, signing.StateNext)[0].KID

	jwk := privateJWK(t, "es256.pem", "legacy-1", "ES256")
	if _, err := s.Import(ctx(), jwk, "", signing.StateRetiring); err != nil {
		t.Fatal(err)
	}
	var k jose.JSONWebKey
	k.UnmarshalJSON(jwk)
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, nil)
	jws, _ := signer.Sign([]byte(`{"sub":"elsewhere"}`))
	tok, _ := jws.CompactSerialize()
	if p, kid, err := s.Verify(tok); err != nil || kid != "legacy-1" || string(p) != `{"sub":"elsewhere"}` {
		t.Fatalf("Verify = %s, %s, %v", p, kid, err)
	}
	if s.ActiveKID(signing.ES256) != active {
		t.Fatal("importing a retiring key changed the active key")
	}

	rec, err := s.Import(ctx(), readTestdata(t, "es256-sec1.pem"), "", signing.StateNext)
	if err != nil {
		t.Fatal(err)
	}
	if n := byState(t, s, signing.ES256, signing.StateNext); len(n) != 1 || n[0].KID != rec.KID {
		t.Fatalf("next = %v; want the imported key", n)
	}
	if r := byState(t, s, signing.ES256, signing.StateRetired); len(r) != 1 || r[0].KID != next {
		t.Fatalf("the replaced next key was not retired: %v", r)
	}
	if _, err := s.Import(ctx(), readTestdata(t, "eddsa.pem"), "", "bogus"); err == nil {
		t.Fatal("imported in state bogus")
	}
}
