package authz

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/keys/signing"
)

// Signer signs and verifies JWTs with the signing-key service's keys
// (keys/signing.Service satisfies it).
type Signer interface {
	// Sign returns a compact JWS of payload (the claims' JSON) signed by
	// alg's active key, with the key's kid and typ (left out when "") in
	// the protected header. It does not keep payload.
	Sign(ctx context.Context, alg, typ string, payload []byte) (string, error)
	// Verify checks a compact JWS against the published keys and returns
	// its payload.
	Verify(token string, algs ...string) (payload []byte, kid string, err error)
}

// Token prefixes: typed, so secret scanners and people can tell them apart.
const (
	prefixAccess  = "kw_at_"
	prefixRefresh = "kw_rt_"
	prefixCode    = "kw_ac_"
)

// AccessTokenAlg signs JWT access tokens (DESIGN.md: ES256 by default).
const AccessTokenAlg = "ES256"

// tokenStrategy issues RFC 9068 JWT access tokens (or opaque HMAC tokens
// for clients that ask for them), and prefixed HMAC refresh tokens and
// authorization codes. The HMAC tokens have the format of fosite's HMAC
// strategy and are issued, checked (tokenMACs: pooled HMAC states,
// fosite's answers) and named (hmacSignature) as it does; their check
// keeps its expiry rules (validateHMACToken, with the lifespans of cfg) on
// Keyward's clock, the one the opaque cache's expiry reads (fosite's reads
// time.Now, which is Keyward's clock outside tests).
type tokenStrategy struct {
	cfg    *fosite.Config
	macs   *tokenMACs
	signer Signer
	issuer string
	now    func() time.Time
	cache  *verifyCache
}

var _ oauth2.CoreStrategy = (*tokenStrategy)(nil)

// isJWT reports whether token has the shape of a compact JWS.
func isJWT(token string) bool {
	return strings.Count(token, ".") == 2 && !strings.HasPrefix(token, "kw_")
}

// jwtSignature returns the signature segment of a compact JWS.
func jwtSignature(token string) string { return token[strings.LastIndexByte(token, '.')+1:] }

// AccessTokenSignature implements oauth2.AccessTokenStrategy.
func (s *tokenStrategy) AccessTokenSignature(_ context.Context, token string) string {
	if isJWT(token) {
		return jwtSignature(token)
	}
	return hmacSignature(strings.TrimPrefix(token, prefixAccess))
}

// GenerateAccessToken implements oauth2.AccessTokenStrategy.
func (s *tokenStrategy) GenerateAccessToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	sess, _ := r.GetSession().(*Session)
	if sess == nil {
		return "", "", errors.New("authz: request without a Keyward session")
	}
	format := "jwt"
	if c, ok := r.GetClient().(*fositeClient); ok && c.c.AccessTokenFormat == "opaque" {
		format = "opaque"
	}
	sess.AccessFormat = format
	if format == "opaque" {
		t, sig, err := s.macs.generate(prefixAccess)
		if err != nil {
			return "", "", err
		}
		sess.AccessJTI = ""
		return t, sig, nil
	}
	token, jti, err := s.signAccessToken(ctx, r, sess)
	if err != nil {
		return "", "", err
	}
	sess.AccessJTI = jti
	if ar, ok := r.(fosite.AccessRequester); ok {
		gt := ar.GetGrantTypes()
		sess.stateless = gt.ExactOne(clients.GrantClientCredentials) || gt.ExactOne(clients.GrantTokenExchange)
	}
	return token, jwtSignature(token), nil
}

// signAccessToken builds and signs the RFC 9068 §2.2 claims.
func (s *tokenStrategy) signAccessToken(ctx context.Context, r fosite.Requester, sess *Session) (string, string, error) {
	now := s.now().UTC()
	exp := sess.GetExpiresAt(fosite.AccessToken)
	if exp.IsZero() {
		exp = now.Add(time.Hour)
	}
	clientID := r.GetClient().GetID()
	sub := sess.GetSubject()
	if sub == "" {
		sub = clientID
	}
	aud := []string(r.GetGrantedAudience())
	if len(aud) == 0 {
		aud = []string{clientID}
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", err
	}
	jti := base64.RawURLEncoding.EncodeToString(b[:])
	claims := accessTokenClaims{
		Issuer:    s.issuer,
		Subject:   sub,
		Audience:  aud,
		ExpiresAt: exp.Unix(),
		IssuedAt:  now.Unix(),
		NotBefore: now.Unix(),
		JTI:       jti,
		ClientID:  clientID,
		Scope:     strings.Join(r.GetGrantedScopes(), " "),
		DPoPJKT:   sess.DPoPJKT, // RFC 9449 §6.1: the token is bound to the DPoP key
	}
	if at := sess.IDTokenClaims().AuthTime; sess.UserID != "" && !at.IsZero() {
		claims.AuthTime = at.Unix()
	}
	if b := sess.APIKey; b.KeyID != "" {
		claims.APIKeyID, claims.APIKeySecret = b.KeyID, b.Secret
	}
	buf := scratchBuffers.Get().(*[]byte)
	*buf = claims.appendJSON((*buf)[:0])
	token, err := s.signer.Sign(ctx, AccessTokenAlg, accessTokenType, *buf)
	scratchBuffers.Put(buf)
	if err != nil {
		return "", "", err
	}
	return token, jti, nil
}

// accessTokenType is the typ header of JWT access tokens (RFC 9068 §2.1).
const accessTokenType = "at+jwt"

// ValidateAccessToken implements oauth2.AccessTokenStrategy.
func (s *tokenStrategy) ValidateAccessToken(ctx context.Context, r fosite.Requester, token string) error {
	if isJWT(token) {
		_, err := s.verifyAccessToken(token)
		return err
	}
	return s.validateHMACToken(ctx, fosite.AccessToken, r.GetSession().GetExpiresAt(fosite.AccessToken), r.GetRequestedAt(), token)
}

// AccessClaims are the claims of a verified JWT access token.
type AccessClaims struct {
	Issuer    string          `json:"iss"`
	Subject   string          `json:"sub"`
	Audience  json.RawMessage `json:"aud"`
	ExpiresAt int64           `json:"exp"`
	IssuedAt  int64           `json:"iat"`
	NotBefore int64           `json:"nbf"`
	JTI       string          `json:"jti"`
	ClientID  string          `json:"client_id"`
	Scope     string          `json:"scope"`
	AuthTime  int64           `json:"auth_time,omitempty"`
	// APIKeyID and APIKeySecret bind a token exchanged for an API key to
	// that key and secret (Session.APIKey).
	APIKeyID     string `json:"api_key_id,omitempty"`
	APIKeySecret int64  `json:"api_key_secret,omitempty"`
	// Cnf is the confirmation of a DPoP-bound token (RFC 9449 §6.1).
	Cnf *Confirmation `json:"cnf,omitempty"`

	// audiences is Audience decoded, once, by verifyAccessToken (before
	// the claims are shared through the verified-token cache).
	audiences []string
}

// Confirmation is the cnf claim (RFC 7800) of a DPoP-bound token: the
// SHA-256 thumbprint of its key (RFC 9449 §6.1).
type Confirmation struct {
	JKT string `json:"jkt,omitempty"`
}

// DPoPJKT returns the thumbprint the token is bound to ("" when it is a
// bearer token).
func (c *AccessClaims) DPoPJKT() string {
	if c.Cnf == nil {
		return ""
	}
	return c.Cnf.JKT
}

// Private claims of a token exchanged for an API key.
const (
	claimAPIKey       = "api_key_id"
	claimAPIKeySecret = "api_key_secret"
)

// Audiences returns aud as a list (RFC 7519 §4.1.3 allows a string). The
// list may be shared: do not modify it.
func (c *AccessClaims) Audiences() []string {
	if c.audiences != nil {
		return c.audiences
	}
	var list []string
	if json.Unmarshal(c.Audience, &list) == nil {
		return list
	}
	var one string
	if json.Unmarshal(c.Audience, &one) == nil && one != "" {
		return []string{one}
	}
	return nil
}

// verifyAccessToken checks signature, the "typ" header (at+jwt, so an ID
// token or another JWT signed by the same keys is refused, RFC 9068 §4),
// issuer and time; it does not consult the revocation list.
// fosite.ErrTokenExpired for an expired token, fosite.ErrTokenClaim for a
// JWT that is not one of our access tokens.
func (s *tokenStrategy) verifyAccessToken(token string) (*AccessClaims, error) {
	key := tokenKey(token)
	if c, ok := s.cache.get(key); ok {
		if c.ExpiresAt <= s.now().Unix() {
			return nil, fosite.ErrTokenExpired
		}
		return c, nil
	}
	payload, typ, err := s.verifySigned(token)
	if err != nil {
		return nil, fosite.ErrTokenSignatureMismatch.WithWrap(err)
	}
	if !isAccessTokenType(typ) {
		return nil, fosite.ErrTokenClaim.WithHint("The JWT is not an access token (typ at+jwt).")
	}
	var c AccessClaims
	if err := decodeAccessClaims(payload, &c); err != nil {
		return nil, fosite.ErrTokenClaim.WithWrap(err)
	}
	now := s.now().Unix()
	switch {
	case c.Issuer != s.issuer || c.JTI == "" || c.ClientID == "":
		return nil, fosite.ErrTokenClaim
	case c.ExpiresAt <= now:
		return nil, fosite.ErrTokenExpired
	case c.NotBefore > now+60:
		return nil, fosite.ErrTokenClaim
	}
	c.audiences = c.Audiences()
	s.cache.put(key, &c)
	return &c, nil
}

// typedVerifier is a Signer that verifies a token for one algorithm and
// reads its typ header in one pass (keys/signing.Service has it: its own
// path for the ES256 tokens it signs).
type typedVerifier interface {
	VerifyTyped(token, alg string) (payload []byte, kid, typ string, err error)
}

// verifySigned checks an access token's signature and returns its payload
// and typ header.
func (s *tokenStrategy) verifySigned(token string) (payload []byte, typ string, err error) {
	if v, ok := s.signer.(typedVerifier); ok {
		payload, _, typ, err = v.VerifyTyped(token, AccessTokenAlg)
		return payload, typ, err
	}
	payload, _, err = s.signer.Verify(token, AccessTokenAlg)
	if err != nil {
		return nil, "", err
	}
	return payload, signing.HeaderType(token), nil
}

// RefreshTokenSignature implements oauth2.RefreshTokenStrategy.
func (s *tokenStrategy) RefreshTokenSignature(_ context.Context, token string) string {
	return hmacSignature(strings.TrimPrefix(token, prefixRefresh))
}

// GenerateRefreshToken implements oauth2.RefreshTokenStrategy.
func (s *tokenStrategy) GenerateRefreshToken(context.Context, fosite.Requester) (string, string, error) {
	return s.macs.generate(prefixRefresh)
}

// ValidateRefreshToken implements oauth2.RefreshTokenStrategy.
func (s *tokenStrategy) ValidateRefreshToken(ctx context.Context, r fosite.Requester, token string) error {
	return s.validateHMACToken(ctx, fosite.RefreshToken, r.GetSession().GetExpiresAt(fosite.RefreshToken), r.GetRequestedAt(), token)
}

// AuthorizeCodeSignature implements oauth2.AuthorizeCodeStrategy.
func (s *tokenStrategy) AuthorizeCodeSignature(_ context.Context, token string) string {
	return hmacSignature(strings.TrimPrefix(token, prefixCode))
}

// GenerateAuthorizeCode implements oauth2.AuthorizeCodeStrategy.
func (s *tokenStrategy) GenerateAuthorizeCode(context.Context, fosite.Requester) (string, string, error) {
	return s.macs.generate(prefixCode)
}

// ValidateAuthorizeCode implements oauth2.AuthorizeCodeStrategy.
func (s *tokenStrategy) ValidateAuthorizeCode(ctx context.Context, r fosite.Requester, token string) error {
	return s.validateHMACToken(ctx, fosite.AuthorizeCode, r.GetSession().GetExpiresAt(fosite.AuthorizeCode), r.GetRequestedAt(), token)
}
