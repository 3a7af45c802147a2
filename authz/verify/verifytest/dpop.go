package verifytest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// DPoPKey is a client's DPoP key (ES256), for tests of resource servers
// that accept DPoP-bound tokens (RFC 9449): bind a token to it with
// Claims.DPoP, and sign the proof of each request with Proof.
type DPoPKey struct {
	priv *ecdsa.PrivateKey
	jkt  string
}

// NewDPoPKey makes a fresh key. It panics when the system has no
// randomness.
func NewDPoPKey() *DPoPKey {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic("verifytest: NewDPoPKey: " + err.Error())
	}
	tp, err := (&jose.JSONWebKey{Key: priv.Public()}).Thumbprint(crypto.SHA256)
	if err != nil {
		panic("verifytest: NewDPoPKey: " + err.Error())
	}
	return &DPoPKey{priv: priv, jkt: base64.RawURLEncoding.EncodeToString(tp)}
}

// Thumbprint is the key's RFC 7638 SHA-256 thumbprint, base64url: the
// cnf.jkt of the tokens bound to it.
func (k *DPoPKey) Thumbprint() string { return k.jkt }

// Proof signs a DPoP proof (RFC 9449 §4.2) for a request with method to
// url, issued now with a fresh jti, carrying ath for accessToken when it
// is not "". Extra claims are added last (e.g. a nonce, or a stale iat).
// It panics when extra cannot be encoded.
func (k *DPoPKey) Proof(method, url, accessToken string, extra map[string]any) string {
	claims := map[string]any{"jti": randomString(22), "htm": method, "htu": url, "iat": time.Now().Unix()}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	for name, v := range extra {
		claims[name] = v
	}
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt")
	s, err := sign(jose.SigningKey{Algorithm: jose.ES256, Key: k.priv}, opts, claims)
	if err != nil {
		panic("verifytest: Proof: " + err.Error())
	}
	return s
}
