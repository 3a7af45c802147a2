package authz

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite/token/jwt"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store/sqlite"
)

// The benchmarks measure fosite's jwt.Signer as fosite calls it for ID
// tokens (idTokenSigner over the signing-key service) against go-jose v4
// used directly on the same key: the whole seam (header mapping, key
// lookup, signer cache) should cost under 10% (issue: signing keys).

var benchKeyFile = map[string]string{signing.ES256: "es256.pem", signing.RS256: "rs256.pem", signing.EdDSA: "eddsa.pem"}

func benchKeyPEM(b *testing.B, alg string) []byte {
	b.Helper()
	pemBytes, err := os.ReadFile(filepath.Join("..", "keys", "signing", "testdata", benchKeyFile[alg]))
	if err != nil {
		b.Fatal(err)
	}
	return pemBytes
}

// benchIDSigner is the fosite signer over a signing service holding the
// testdata key of alg as its active key.
func benchIDSigner(b *testing.B, alg string) *idTokenSigner {
	b.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "k.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	svc, err := signing.New(db, keys.Secret([]byte("0123456789abcdef0123456789abcdef")), db,
		signing.Config{Algorithms: []string{alg}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.Import(context.Background(), benchKeyPEM(b, alg), alg, signing.StateActive); err != nil {
		b.Fatal(err)
	}
	return &idTokenSigner{signer: svc, now: time.Now}
}

func benchDirect(b *testing.B, alg string) (jose.Signer, jose.JSONWebKey) {
	b.Helper()
	block, _ := pem.Decode(benchKeyPEM(b, alg))
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		b.Fatal(err)
	}
	jwk := jose.JSONWebKey{Key: k, KeyID: "direct", Algorithm: alg, Use: "sig"}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: jwk},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		b.Fatal(err)
	}
	return s, jwk.Public()
}

func benchIDClaims() jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": "https://issuer.example", "sub": "user-123", "aud": []string{"client-1"},
		"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "auth_time": now.Unix(),
		"nonce": "n-0S6_WzA2Mj", "jti": "3c1b1d0a-6a4b-4d2a-9d55-1d1a9c7c1f00",
	}
}

func BenchmarkFositeSignerGenerate(b *testing.B) {
	ctx := context.Background()
	for _, alg := range signing.DefaultAlgorithms() {
		b.Run(alg+"/fosite-signer", func(b *testing.B) {
			s := benchIDSigner(b, alg)
			hdr := &jwt.Headers{}
			hdr.Add("alg", alg)
			for b.Loop() {
				if _, _, err := s.Generate(ctx, benchIDClaims(), hdr); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(alg+"/go-jose", func(b *testing.B) {
			signer, _ := benchDirect(b, alg)
			for b.Loop() {
				payload, err := json.Marshal(benchIDClaims())
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

// BenchmarkFositeSignerValidate compares Validate (signature and expiry)
// and Decode (also the claims map fosite reads) with go-jose doing the
// same: verifying, then reading exp or the whole claims map.
func BenchmarkFositeSignerValidate(b *testing.B) {
	ctx := context.Background()
	for _, alg := range signing.DefaultAlgorithms() {
		s := benchIDSigner(b, alg)
		hdr := &jwt.Headers{}
		hdr.Add("alg", alg)
		tok, _, err := s.Generate(ctx, benchIDClaims(), hdr)
		if err != nil {
			b.Fatal(err)
		}
		_, pub := benchDirect(b, alg)
		algs := []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)}
		direct := func(b *testing.B, into func() any) {
			for b.Loop() {
				jws, err := jose.ParseSignedCompact(tok, algs)
				if err != nil {
					b.Fatal(err)
				}
				payload, err := jws.Verify(pub)
				if err != nil {
					b.Fatal(err)
				}
				if err := json.Unmarshal(payload, into()); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.Run(alg+"/validate/fosite-signer", func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Validate(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(alg+"/validate/go-jose", func(b *testing.B) {
			direct(b, func() any {
				return &struct {
					Exp *float64 `json:"exp"`
				}{}
			})
		})
		b.Run(alg+"/decode/fosite-signer", func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Decode(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(alg+"/decode/go-jose", func(b *testing.B) {
			direct(b, func() any { return &map[string]any{} })
		})
	}
}
