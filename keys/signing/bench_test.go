package signing_test

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/keyward/keyward/keys/signing"
)

// The benchmarks compare the Service with go-jose used directly on the
// same key (a signer built once, claims marshalled per call): the
// Service's own work (snapshot and key lookup, header-signer cache; see
// BenchmarkSignerLookup) should cost under 10%.

func benchClaims() map[string]any {
	now := time.Now().Unix()
	return map[string]any{
		"iss": "https://issuer.example", "sub": "user-123", "aud": []string{"api"},
		"exp": now + 3600, "iat": now, "jti": "3c1b1d0a-6a4b-4d2a-9d55-1d1a9c7c1f00",
		"client_id": "client-1", "scope": "read write",
	}
}

// benchFile is the testdata key of each algorithm.
var benchFile = map[string]string{signing.ES256: "es256.pem", signing.RS256: "rs256.pem", signing.EdDSA: "eddsa.pem"}

// directSigner is go-jose on its own, with the same key as
// importedService, parsed the same way.
func directSigner(b *testing.B, alg string) (jose.Signer, jose.JSONWebKey) {
	b.Helper()
	block, _ := pem.Decode(readTestdata(b, benchFile[alg]))
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		b.Fatal(err)
	}
	jwk := jose.JSONWebKey{Key: k, KeyID: "direct", Algorithm: alg, Use: "sig"}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: jwk},
		(&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		b.Fatal(err)
	}
	return signer, jwk.Public()
}

// importedService signs with the same testdata key as directSigner.
func importedService(b *testing.B, alg string) *signing.Service {
	b.Helper()
	s := newService(b, openSQLite(b), signing.Config{Algorithms: []string{alg}})
	if _, err := s.Import(ctx(), readTestdata(b, benchFile[alg]), alg, signing.StateActive); err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkSign(b *testing.B) {
	claims := benchClaims()
	hdr := map[string]any{"typ": "at+jwt"}
	for _, alg := range signing.DefaultAlgorithms() {
		b.Run(alg+"/service", func(b *testing.B) {
			s := importedService(b, alg)
			for b.Loop() {
				if _, err := s.SignClaims(ctx(), alg, claims, hdr); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(alg+"/go-jose", func(b *testing.B) {
			signer, _ := directSigner(b, alg)
			for b.Loop() {
				payload, err := json.Marshal(claims)
				if err != nil {
					b.Fatal(err)
				}
				jws, err := signer.Sign(payload)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := jws.CompactSerialize(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	claims := benchClaims()
	for _, alg := range signing.DefaultAlgorithms() {
		s := importedService(b, alg)
		tok, err := s.SignClaims(ctx(), alg, claims, map[string]any{"typ": "at+jwt"})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(alg+"/service", func(b *testing.B) {
			for b.Loop() {
				if _, _, err := s.Verify(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(alg+"/go-jose", func(b *testing.B) {
			_, pub := directSigner(b, alg)
			algs := []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)}
			for b.Loop() {
				jws, err := jose.ParseSignedCompact(tok, algs)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := jws.Verify(pub); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
