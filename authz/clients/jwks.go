package clients

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// The token-endpoint authentication methods of RFC 7591 §2 that Keyward
// offers (client_secret_jwt is not: a client's secret is never kept where
// it could verify an HMAC).
const (
	AuthSecretBasic   = "client_secret_basic"
	AuthSecretPost    = "client_secret_post"
	AuthPrivateKeyJWT = "private_key_jwt"
	AuthNone          = "none"
)

// SigningAlgs are the JWS algorithms (RFC 7518 §3, RFC 8037) a client may
// sign its assertions (RFC 7523) and request objects (RFC 9101) with:
// asymmetric only, never none or an HMAC.
var SigningAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// Limits on a client's JWK Set.
const (
	MaxJWKSBytes = 64 << 10
	MaxJWKSKeys  = 20
	minRSABits   = 2048
)

// privateMembers are the JWK members that carry private or symmetric key
// material (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// ParseJWKS parses and checks a client's JWK Set (RFC 7517 §5): public
// signing keys only (RSA of at least 2048 bits, EC P-256/384/521, Ed25519),
// any "use" sig, any "alg" one of SigningAlgs, at most MaxJWKSKeys keys and
// MaxJWKSBytes. A key with private or symmetric material is refused, so a
// private key pasted by mistake is never stored. The error says what is
// wrong with which key.
func ParseJWKS(raw []byte) (*jose.JSONWebKeySet, error) {
	if len(raw) > MaxJWKSBytes {
		return nil, fmt.Errorf("larger than %d bytes", MaxJWKSBytes)
	}
	var members struct {
		Keys []map[string]json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(raw, &members); err != nil {
		return nil, fmt.Errorf("not a JSON JWK Set: %s", jsonShape(err))
	}
	if len(members.Keys) == 0 {
		return nil, fmt.Errorf(`no keys (a JWK Set is {"keys": [...]})`)
	}
	if len(members.Keys) > MaxJWKSKeys {
		return nil, fmt.Errorf("%d keys, at most %d", len(members.Keys), MaxJWKSKeys)
	}
	for i, m := range members.Keys {
		for _, p := range privateMembers {
			if _, ok := m[p]; ok {
				return nil, fmt.Errorf("key %d holds private or symmetric key material (%q): register the public key only", i, p)
			}
		}
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("not a valid JWK Set: %v", err)
	}
	for i, k := range set.Keys {
		if err := checkKey(k); err != nil {
			name := fmt.Sprintf("key %d", i)
			if k.KeyID != "" {
				name += fmt.Sprintf(" (kid %q)", k.KeyID)
			}
			return nil, fmt.Errorf("%s: %v", name, err)
		}
	}
	return &set, nil
}

// jsonShape says what is wrong with a JWK Set's JSON in the user's terms,
// never naming a Go type.
func jsonShape(err error) string {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ) && typ.Field == "":
		return `it must be a JSON object, {"keys": [...]}`
	case errors.As(err, &typ) && typ.Field == "keys":
		return `"keys" must be an array of JWK objects`
	case errors.As(err, &typ):
		return fmt.Sprintf("%q must be a JSON %s", typ.Field, jsonKind(typ.Type.Kind().String()))
	}
	return "malformed JSON"
}

func jsonKind(goKind string) string {
	switch goKind {
	case "slice", "array":
		return "array"
	case "map", "struct":
		return "object"
	case "string":
		return "string"
	case "bool":
		return "boolean"
	}
	return "value of another type"
}

func checkKey(k jose.JSONWebKey) error {
	if !k.IsPublic() || !k.Valid() {
		return fmt.Errorf("not a public RSA, EC or Ed25519 key")
	}
	if k.Use != "" && k.Use != "sig" {
		return fmt.Errorf("use %q: must be sig", k.Use)
	}
	switch pk := k.Key.(type) {
	case *rsa.PublicKey:
		if pk.N.BitLen() < minRSABits {
			return fmt.Errorf("RSA key of %d bits: at least %d", pk.N.BitLen(), minRSABits)
		}
	case *ecdsa.PublicKey:
		if pk.Curve != elliptic.P256() && pk.Curve != elliptic.P384() && pk.Curve != elliptic.P521() {
			return fmt.Errorf("EC curve must be P-256, P-384 or P-521")
		}
	case ed25519.PublicKey:
	}
	if k.Algorithm != "" {
		if !slices.Contains(SigningAlgs, k.Algorithm) {
			return fmt.Errorf("alg %q: not one of %s", k.Algorithm, strings.Join(SigningAlgs, ", "))
		}
		if !KeyFits(k, k.Algorithm) {
			return fmt.Errorf("alg %q does not fit the key type", k.Algorithm)
		}
	}
	return nil
}

// KeyFits reports whether k can verify signatures of alg (one of
// SigningAlgs): its type fits (RSA for RS*/PS*, the EC curve of ES*,
// Ed25519 for EdDSA), and its own alg, if it names one, is alg.
func KeyFits(k jose.JSONWebKey, alg string) bool {
	if k.Algorithm != "" && k.Algorithm != alg {
		return false
	}
	switch pk := k.Key.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(alg, "RS") || strings.HasPrefix(alg, "PS")
	case *ecdsa.PublicKey:
		switch alg {
		case "ES256":
			return pk.Curve == elliptic.P256()
		case "ES384":
			return pk.Curve == elliptic.P384()
		case "ES512":
			return pk.Curve == elliptic.P521()
		}
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}

// ValidateJWKSURI checks a jwks_uri (RFC 7591 §2): an absolute https URL
// (http is accepted too, for development; the outbound fetcher's address
// policy decides what it may reach) without credentials or fragment.
func ValidateJWKSURI(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("not a URL")
	case len(s) > 2048:
		return fmt.Errorf("longer than 2048 characters")
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("must be an https URL")
	case u.Host == "":
		return fmt.Errorf("has no host")
	case u.User != nil:
		return fmt.Errorf("must not contain credentials")
	case u.Fragment != "" || strings.Contains(s, "#"):
		return fmt.Errorf("must not contain a fragment")
	}
	return nil
}
