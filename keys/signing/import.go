package signing

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/keyward/keyward/store"
)

// ErrBadKey is returned by Import for data that is not a usable private
// key.
var ErrBadKey = fmt.Errorf("%w: not a usable private key", store.ErrInvalid)

// Import stores an existing private key, given as PEM (PKCS #8 "PRIVATE
// KEY", PKCS #1 "RSA PRIVATE KEY" or SEC 1 "EC PRIVATE KEY") or as a
// private JWK (RFC 7517), in state st. alg may be "" to take the JWK's alg
// or the key type's algorithm. The kid is the JWK's kid, so tokens signed
// elsewhere keep verifying, else the RFC 7638 thumbprint. Making room
// follows the life cycle: importing a next key retires the current next
// key (it never signed), importing an active key moves the current one to
// retiring. It returns ErrBadKey (also for an unsupported algorithm or an
// invalid state), or store.ErrConflict for a kid that exists.
func (s *Service) Import(ctx context.Context, data []byte, alg string, st State) (*Record, error) {
	if !st.Valid() {
		return nil, fmt.Errorf("%w: invalid state %q", ErrBadKey, st)
	}
	priv, kid, jwkAlg, err := parsePrivate(data)
	if err != nil {
		return nil, err
	}
	if alg == "" {
		alg = jwkAlg
	}
	if alg == "" {
		if alg, err = algFor(priv); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
		}
	}
	if !supported(alg) {
		return nil, fmt.Errorf("%w: unsupported algorithm %q (use ES256, RS256 or EdDSA)", ErrBadKey, alg)
	}
	if jwkAlg != "" && jwkAlg != alg {
		return nil, fmt.Errorf("%w: the JWK is for %s, not %s", ErrBadKey, jwkAlg, alg)
	}
	if err := checkKID(kid); err != nil {
		return nil, err
	}
	rec, err := s.seal(alg, priv, kid, OriginImported)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	p, err := s.transition(ctx, alg, func(p *plan) error {
		return p.importKey(rec.Clone(), st)
	})
	if err != nil {
		return nil, err
	}
	return p.byKID(rec.KID).Clone(), nil
}

// maxKIDLen bounds an imported kid; it travels in every token header.
const maxKIDLen = 128

// checkKID accepts an empty kid (the thumbprint is used) or printable
// ASCII up to maxKIDLen.
func checkKID(kid string) error {
	if len(kid) > maxKIDLen {
		return fmt.Errorf("%w: kid longer than %d bytes", ErrBadKey, maxKIDLen)
	}
	for _, c := range []byte(kid) {
		if c < 0x20 || c > 0x7e {
			return fmt.Errorf("%w: kid must be printable ASCII", ErrBadKey)
		}
	}
	return nil
}

// parsePrivate reads a PEM or JWK private key; kid and alg are the JWK's.
func parsePrivate(data []byte) (priv crypto.Signer, kid, alg string, err error) {
	data = bytes.TrimSpace(data)
	if bytes.HasPrefix(data, []byte("{")) {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(data); err != nil {
			return nil, "", "", fmt.Errorf("%w: JWK: %v", ErrBadKey, err)
		}
		if jwk.IsPublic() || !jwk.Valid() {
			return nil, "", "", fmt.Errorf("%w: the JWK has no private key", ErrBadKey)
		}
		if jwk.Use != "" && jwk.Use != "sig" {
			return nil, "", "", fmt.Errorf("%w: the JWK's use is %q, not sig", ErrBadKey, jwk.Use)
		}
		priv, err := asSigner(jwk.Key)
		return priv, jwk.KeyID, jwk.Algorithm, err
	}
	public := false // a public key or certificate was seen
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil && public {
			return nil, "", "", fmt.Errorf("%w: the PEM holds a public key or certificate, not a private key", ErrBadKey)
		}
		if block == nil {
			return nil, "", "", fmt.Errorf("%w: no PEM private key or JWK found", ErrBadKey)
		}
		public = public || strings.HasSuffix(block.Type, "PUBLIC KEY") || block.Type == "CERTIFICATE"
		var k any
		switch block.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, "", "", fmt.Errorf("%w: encrypted PEM; decrypt it first", ErrBadKey)
		default:
			continue // "EC PARAMETERS", certificates, …
		}
		if err != nil {
			return nil, "", "", fmt.Errorf("%w: %s: %v", ErrBadKey, block.Type, err)
		}
		priv, err := asSigner(k)
		return priv, "", "", err
	}
}

// asSigner accepts the private key types the algorithms use.
func asSigner(k any) (crypto.Signer, error) {
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		return k, nil
	case *rsa.PrivateKey:
		if err := k.Validate(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
		}
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	case *ed25519.PrivateKey:
		return *k, nil
	}
	return nil, fmt.Errorf("%w: unsupported key type %T", ErrBadKey, k)
}
