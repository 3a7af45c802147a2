package signing

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"io"

	jose "github.com/go-jose/go-jose/v4"
)

// rsaBits is the size of generated RSA keys, and the least accepted on
// import (RFC 7518 §3.3 requires 2048).
const rsaBits = 2048

// generate makes a new private key for alg.
func generate(alg string, rand io.Reader) (crypto.Signer, error) {
	switch alg {
	case ES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand)
	case RS256:
		return rsa.GenerateKey(rand, rsaBits)
	case EdDSA:
		_, k, err := ed25519.GenerateKey(rand)
		return k, err
	}
	return nil, fmt.Errorf("signing: unsupported algorithm %q", alg)
}

// checkKey reports whether priv is a valid key for alg.
func checkKey(alg string, priv crypto.Signer) error {
	ok := false
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		ok = alg == ES256 && k.Curve == elliptic.P256()
	case *rsa.PrivateKey:
		if alg == RS256 && k.N.BitLen() < rsaBits {
			return fmt.Errorf("signing: RSA key of %d bits is too short (at least %d)", k.N.BitLen(), rsaBits)
		}
		ok = alg == RS256
	case ed25519.PrivateKey:
		ok = alg == EdDSA
	}
	if !ok {
		return fmt.Errorf("signing: a %T key cannot sign %s", priv, alg)
	}
	return nil
}

// algFor returns the algorithm a key type signs with.
func algFor(priv crypto.Signer) (string, error) {
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve == elliptic.P256() {
			return ES256, nil
		}
		return "", fmt.Errorf("signing: an EC key on curve %s is not supported (ES256 needs P-256)", k.Curve.Params().Name)
	case *rsa.PrivateKey:
		return RS256, nil
	case ed25519.PrivateKey:
		return EdDSA, nil
	}
	return "", fmt.Errorf("signing: unsupported key type %T", priv)
}

// thumbprint returns the RFC 7638 SHA-256 JWK thumbprint of priv's public
// key, base64url-encoded: the kid of a generated key.
func thumbprint(priv crypto.Signer) (string, error) {
	jwk := jose.JSONWebKey{Key: priv.Public()}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("signing: thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}
