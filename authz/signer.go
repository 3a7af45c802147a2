package authz

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ory/fosite/token/jwt"
)

// DefaultIDTokenAlg signs ID tokens unless the client registered another
// (OpenID Connect Discovery 1.0 §3 requires RS256 support).
const DefaultIDTokenAlg = "RS256"

// idTokenSigner implements fosite's jwt.Signer over the signing-key
// service, so fosite's go-jose v3 types stay inside this seam. The session
// header "alg" picks the key's algorithm (the client's registered one).
type idTokenSigner struct {
	signer Signer
	now    func() time.Time
}

var _ jwt.Signer = (*idTokenSigner)(nil)

// Generate implements jwt.Signer.
func (s *idTokenSigner) Generate(ctx context.Context, claims jwt.MapClaims, header jwt.Mapper) (string, string, error) {
	alg, typ := DefaultIDTokenAlg, "JWT"
	if header != nil {
		for k, v := range header.ToMap() {
			switch k {
			case "alg", "kid": // set by the signer
			case "typ":
				if t, ok := v.(string); ok && t != "" {
					typ = t
					continue
				}
				return "", "", fmt.Errorf("authz: ID token typ header %v is not a string", v)
			default:
				return "", "", fmt.Errorf("authz: ID token header %q is not supported", k)
			}
		}
	}
	// fosite's Headers.ToMap drops "alg"; the session keeps the client's
	// algorithm there (it also picks the at_hash function, OIDC Core §3.1.3.6).
	if hs, ok := header.(*jwt.Headers); ok {
		if a, ok := hs.Get("alg").(string); ok && a != "" {
			alg = a
		}
	}
	if alg == "EdDSA" {
		// fosite computes at_hash with SHA-256 whatever the algorithm; for
		// Ed25519 relying parties expect SHA-512. at_hash is optional in
		// the code flow (OIDC Core §3.1.3.6), so leave it out rather than
		// send a value that does not verify.
		delete(claims, "at_hash")
		delete(claims, "c_hash")
	}
	payload, err := json.Marshal(map[string]any(claims))
	if err != nil {
		return "", "", fmt.Errorf("authz: ID token claims: %w", err)
	}
	token, err := s.signer.Sign(ctx, alg, typ, payload)
	if err != nil {
		return "", "", err
	}
	return token, jwtSignature(token), nil
}

// Validate implements jwt.Signer: the signature against the published
// keys and the expiry, without building the claims map Decode returns.
func (s *idTokenSigner) Validate(_ context.Context, token string) (string, error) {
	payload, _, err := s.signer.Verify(token)
	if err != nil {
		return "", &jwt.ValidationError{Errors: jwt.ValidationErrorSignatureInvalid, Inner: err}
	}
	var c struct {
		Exp *float64 `json:"exp"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return "", &jwt.ValidationError{Errors: jwt.ValidationErrorMalformed, Inner: err}
	}
	if c.Exp != nil && int64(*c.Exp) < s.now().Unix() {
		return "", &jwt.ValidationError{Errors: jwt.ValidationErrorExpired, Inner: errors.New("token expired")}
	}
	return jwtSignature(token), nil
}

// Hash implements jwt.Signer.
func (s *idTokenSigner) Hash(_ context.Context, in []byte) ([]byte, error) {
	sum := sha256.Sum256(in)
	return sum[:], nil
}

// Decode implements jwt.Signer: it verifies token against the published
// keys. An expired token comes back with a ValidationErrorExpired, as
// fosite's id_token_hint handling expects.
func (s *idTokenSigner) Decode(_ context.Context, token string) (*jwt.Token, error) {
	payload, kid, err := s.signer.Verify(token)
	if err != nil {
		return nil, &jwt.ValidationError{Errors: jwt.ValidationErrorSignatureInvalid, Inner: err}
	}
	var claims jwt.MapClaims
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, &jwt.ValidationError{Errors: jwt.ValidationErrorMalformed, Inner: err}
	}
	t := &jwt.Token{Header: map[string]any{"kid": kid}, Claims: claims}
	if exp, ok := claims["exp"].(float64); ok && int64(exp) < s.now().Unix() {
		return t, &jwt.ValidationError{Errors: jwt.ValidationErrorExpired, Inner: errors.New("token expired")}
	}
	return t, nil
}

// GetSignature implements jwt.Signer.
func (s *idTokenSigner) GetSignature(_ context.Context, token string) (string, error) {
	if !isJWT(token) {
		return "", errors.New("not a JWT")
	}
	return jwtSignature(token), nil
}

// GetSigningMethodLength implements jwt.Signer.
func (s *idTokenSigner) GetSigningMethodLength(context.Context) int { return sha256.Size }
