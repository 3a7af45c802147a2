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

// Errors. Every rejection of a token matches ErrInvalidToken with
// errors.Is, and the more specific sentinel where there is one; ErrUnavailable
// means the issuer could not be reached, not that the token is bad.
var (
	ErrInvalidToken = errors.New("verify: invalid token")
	ErrExpired      = errors.New("verify: token expired")
	ErrNotYetValid  = errors.New("verify: token not yet valid")
	ErrIssuer       = errors.New("verify: wrong issuer")
	ErrAudience     = errors.New("verify: wrong audience")
	ErrUnknownKey   = errors.New("verify: unknown signing key")
	ErrSignature    = errors.New("verify: bad signature")
	ErrUnavailable  = errors.New("verify: issuer unavailable")
)

// tokenError is a token rejection: kind, ErrInvalidToken and a detail.
type tokenError struct {
	kind   error
	detail string
}

func newTokenError(kind error, detail string) error { return &tokenError{kind, detail} }

func (e *tokenError) Error() string { return e.kind.Error() + ": " + e.detail }

func (e *tokenError) Is(target error) bool { return target == e.kind || target == ErrInvalidToken }

func invalid(format string, args ...any) error {
	return newTokenError(ErrInvalidToken, fmt.Sprintf(format, args...))
}

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
	// Raw holds every claim as encoding/json decodes it into any.
	Raw map[string]any
}

// HasScope reports whether the token was granted scope s.
func (c *Claims) HasScope(s string) bool { return c != nil && slices.Contains(c.Scopes, s) }

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
		return nil, invalid("%v", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, invalid("want exactly one signature")
	}
	h := jws.Signatures[0].Protected
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if t := strings.ToLower(typ); t != "at+jwt" && t != "application/at+jwt" {
		return nil, invalid("header typ %q, want at+jwt", typ)
	}
	if h.KeyID == "" {
		return nil, invalid("header has no kid")
	}
	key, err := v.key(ctx, h.KeyID)
	if err != nil {
		return nil, err
	}
	if key.Algorithm != "" && key.Algorithm != h.Algorithm {
		return nil, invalid("alg %q does not match key %q (%s)", h.Algorithm, h.KeyID, key.Algorithm)
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
}

func (v *Verifier) checkClaims(payload []byte) (*Claims, error) {
	var rc rawClaims
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&rc); err != nil {
		return nil, invalid("claims: %v", err)
	}
	var raw map[string]any
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, invalid("claims: %v", err)
	}
	for name, p := range map[string]*string{"iss": rc.Issuer, "sub": rc.Subject, "jti": rc.JTI, "client_id": rc.ClientID} {
		if p == nil || *p == "" {
			return nil, invalid("claim %s missing", name)
		}
	}
	c := &Claims{Issuer: *rc.Issuer, Subject: *rc.Subject, JTI: *rc.JTI, ClientID: *rc.ClientID, Raw: raw}
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

	if c.Issuer != v.cfg.Issuer {
		return nil, newTokenError(ErrIssuer, fmt.Sprintf("iss %q, want %q", c.Issuer, v.cfg.Issuer))
	}
	now, leeway := v.cfg.Now(), v.cfg.Leeway
	if !now.Before(c.ExpiresAt.Add(leeway)) {
		return nil, newTokenError(ErrExpired, "exp "+c.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if !c.NotBefore.IsZero() && now.Add(leeway).Before(c.NotBefore) {
		return nil, newTokenError(ErrNotYetValid, "nbf "+c.NotBefore.UTC().Format(time.RFC3339))
	}
	if now.Add(leeway).Before(c.IssuedAt) {
		return nil, newTokenError(ErrNotYetValid, "iat "+c.IssuedAt.UTC().Format(time.RFC3339))
	}
	if v.cfg.Audience != "" && !slices.Contains(c.Audience, v.cfg.Audience) {
		return nil, newTokenError(ErrAudience, fmt.Sprintf("aud %q does not contain %q", c.Audience, v.cfg.Audience))
	}
	return c, nil
}

// audience decodes aud, a string or an array of strings; it is required.
func audience(b json.RawMessage) ([]string, error) {
	if len(b) == 0 || string(b) == "null" {
		return nil, invalid("claim aud missing")
	}
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		if one == "" {
			return nil, invalid("claim aud empty")
		}
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil || len(many) == 0 {
		return nil, invalid("claim aud is not a string or a non-empty array of strings")
	}
	return many, nil
}

// numericDate decodes a NumericDate (RFC 7519 §2).
func numericDate(name string, n *json.Number, required bool) (time.Time, error) {
	if n == nil {
		if required {
			return time.Time{}, invalid("claim %s missing", name)
		}
		return time.Time{}, nil
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return time.Time{}, invalid("claim %s is not a NumericDate", name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}
