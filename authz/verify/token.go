package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// allowedAlgs are the only JWS algorithms accepted; never "none" or HS*.
var allowedAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.EdDSA}

// Claims are the verified claims of an RFC 9068 access token.
type Claims struct {
	Issuer    string
	Subject   string
	ClientID  string
	Scopes    []string
	Audience  []string
	ExpiresAt time.Time
	IssuedAt  time.Time
	NotBefore time.Time // zero when absent
	JTI       string
	// JKT is the cnf.jkt claim of a DPoP-bound token (RFC 9449 §6.1):
	// the thumbprint of the key whose proofs must accompany the token.
	// Empty for a bearer token.
	JKT string
	// Raw holds every claim as encoding/json decodes it into any; Claim
	// decodes one into a type of the caller's choice.
	Raw map[string]any

	raw map[string]json.RawMessage
}

// HasScope reports whether the token was granted scope s.
func (c *Claims) HasScope(s string) bool { return c != nil && slices.Contains(c.Scopes, s) }

// Claim decodes the claim called name into out (a pointer, as for
// json.Unmarshal), so private claims keep their types:
//
//	var tenant string
//	err := claims.Claim("tenant", &tenant)
//
// It returns an error matching ErrClaimNotFound when the token has no
// such claim.
func (c *Claims) Claim(name string, out any) error { return decodeMember(c.raw, name, out) }

// ErrClaimNotFound is returned by Claims.Claim and Introspection.Claim for
// a member the token or answer does not have.
var ErrClaimNotFound = errors.New("verify: claim not present")

func decodeMember(raw map[string]json.RawMessage, name string, out any) error {
	b, ok := raw[name]
	if !ok {
		return fmt.Errorf("%w: %s", ErrClaimNotFound, name)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("verify: claim %s: %w", name, err)
	}
	return nil
}

// VerifyAccessToken verifies a JWT access token (RFC 9068) locally: a
// compact JWS signed with ES256, RS256 or EdDSA by a key of the issuer's
// JWKS, with typ "at+jwt", the configured issuer, a future exp, nbf and
// iat not in the future (each with Config.Leeway) and, when
// Config.Audience is set, that audience.
//
// Local verification cannot see revocation: a revoked token stays valid
// here until it expires. Callers that must honour revocation promptly use
// Introspect instead (or as well, for sensitive operations).
func (v *Verifier) VerifyAccessToken(ctx context.Context, token string) (*Claims, error) {
	jws, err := jose.ParseSignedCompact(token, allowedAlgs)
	if err != nil {
		return nil, malformed("%v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, malformed("want exactly one signature")
	}
	h := jws.Signatures[0].Protected
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if t := strings.ToLower(typ); t != "at+jwt" && t != "application/at+jwt" {
		return nil, newTokenError(ErrTokenType, fmt.Sprintf("header typ %q, want at+jwt", typ))
	}
	if h.KeyID == "" {
		return nil, malformed("header has no kid")
	}
	key, err := v.key(ctx, h.KeyID)
	if err != nil {
		return nil, err
	}
	if key.Algorithm != "" && key.Algorithm != h.Algorithm {
		return nil, newTokenError(ErrSignature, fmt.Sprintf("alg %q does not match key %q (%s)", h.Algorithm, h.KeyID, key.Algorithm))
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, newTokenError(ErrSignature, err.Error())
	}
	return v.checkClaims(payload)
}

// rawClaims are the registered claims, decoded strictly.
type rawClaims struct {
	Issuer    *string         `json:"iss"`
	Subject   *string         `json:"sub"`
	Audience  json.RawMessage `json:"aud"`
	ExpiresAt *json.Number    `json:"exp"`
	IssuedAt  *json.Number    `json:"iat"`
	NotBefore *json.Number    `json:"nbf"`
	JTI       *string         `json:"jti"`
	ClientID  *string         `json:"client_id"`
	Scope     *string         `json:"scope"`
	Cnf       *struct {
		JKT string `json:"jkt"`
	} `json:"cnf"`
}

func (v *Verifier) checkClaims(payload []byte) (*Claims, error) {
	var rc rawClaims
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&rc); err != nil {
		return nil, malformed("claims: %v", err)
	}
	var raw map[string]any
	var rawJSON map[string]json.RawMessage
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, malformed("claims: %v", err)
	}
	if err := json.Unmarshal(payload, &rawJSON); err != nil {
		return nil, malformed("claims: %v", err)
	}
	for name, p := range map[string]*string{"iss": rc.Issuer, "sub": rc.Subject, "jti": rc.JTI, "client_id": rc.ClientID} {
		if p == nil || *p == "" {
			return nil, malformed("claim %s missing", name)
		}
	}
	c := &Claims{Issuer: *rc.Issuer, Subject: *rc.Subject, JTI: *rc.JTI, ClientID: *rc.ClientID, Raw: raw, raw: rawJSON}
	if rc.Cnf != nil {
		c.JKT = rc.Cnf.JKT
	}
	if rc.Scope != nil {
		c.Scopes = strings.Fields(*rc.Scope)
	}
	var err error
	if c.Audience, err = audience(rc.Audience); err != nil {
		return nil, err
	}
	if c.ExpiresAt, err = numericDate("exp", rc.ExpiresAt, true); err != nil {
		return nil, err
	}
	if c.IssuedAt, err = numericDate("iat", rc.IssuedAt, true); err != nil {
		return nil, err
	}
	if c.NotBefore, err = numericDate("nbf", rc.NotBefore, false); err != nil {
		return nil, err
	}

	if err := v.checkClaimValues(c); err != nil {
		return nil, err
	}
	return c, nil
}

// checkClaimValues checks iss, exp, nbf, iat and aud against the
// configuration and the clock; zero times are absent claims.
func (v *Verifier) checkClaimValues(c *Claims) error {
	if c.Issuer != v.cfg.Issuer {
		return newTokenError(ErrIssuer, fmt.Sprintf("iss %q, want %q", c.Issuer, v.cfg.Issuer))
	}
	now, leeway := v.cfg.Now(), v.cfg.Leeway
	if !c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt.Add(leeway)) {
		return newTokenError(ErrExpired, "exp "+c.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if !c.NotBefore.IsZero() && now.Add(leeway).Before(c.NotBefore) {
		return newTokenError(ErrNotYetValid, "nbf "+c.NotBefore.UTC().Format(time.RFC3339))
	}
	if !c.IssuedAt.IsZero() && now.Add(leeway).Before(c.IssuedAt) {
		return newTokenError(ErrNotYetValid, "iat "+c.IssuedAt.UTC().Format(time.RFC3339))
	}
	if v.cfg.Audience != "" && !slices.Contains(c.Audience, v.cfg.Audience) {
		return newTokenError(ErrAudience, fmt.Sprintf("aud %q does not contain %q", c.Audience, v.cfg.Audience))
	}
	return nil
}

// audience decodes aud, a string or an array of strings; it is required.
func audience(b json.RawMessage) ([]string, error) {
	if len(b) == 0 || string(b) == "null" {
		return nil, malformed("claim aud missing")
	}
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		if one == "" {
			return nil, malformed("claim aud empty")
		}
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil || len(many) == 0 {
		return nil, malformed("claim aud is not a string or a non-empty array of strings")
	}
	return many, nil
}

// numericDate decodes a NumericDate (RFC 7519 §2).
func numericDate(name string, n *json.Number, required bool) (time.Time, error) {
	if n == nil {
		if required {
			return time.Time{}, malformed("claim %s missing", name)
		}
		return time.Time{}, nil
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return time.Time{}, malformed("claim %s is not a NumericDate", name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}
