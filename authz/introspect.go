package authz

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/keys"
)

// APIKeyVerifier verifies API keys (keys.Service satisfies it).
type APIKeyVerifier interface {
	// Verify checks raw, counting the call against its rate limit.
	Verify(ctx context.Context, raw, requiredScope string) (keys.Result, error)
	// Inspect checks raw without counting it.
	Inspect(ctx context.Context, raw string) (keys.Result, error)
	// Bound reports whether a key and the secret a token was exchanged
	// for still hold (not revoked, expired, or rolled past its grace).
	Bound(ctx context.Context, b keys.Binding) (bool, error)
}

// inactive is the whole answer for a token that is not active (RFC 7662 §2.2).
var inactive = []byte(`{"active":false}`)

// introspector is the introspection endpoint (RFC 7662).
type introspector struct {
	auth    *clientAuth
	tokens  *accessTokens
	apiKeys APIKeyVerifier // nil: API keys are never active
	issuer  string
	log     *slog.Logger
	obs     Observer
}

// introspect is the introspection endpoint (RFC 7662) for access tokens,
// refresh tokens and API keys, open to every confidential client. JWT
// access tokens and cached API keys are answered without a database call.
func (h *introspector) introspect(c *gin.Context) {
	if !readForm(c) {
		return
	}
	if _, ok := h.auth.require(c, c.Request.PostForm, true); !ok {
		return
	}
	token := c.Request.PostForm.Get("token")
	if token == "" {
		oauthError(c, http.StatusBadRequest, "invalid_request", "The token parameter is missing.")
		return
	}
	// token_type_hint is not read: every token's type shows in its form
	// (RFC 7662 §2.1 lets the server ignore the hint).
	bp := scratchBuffers.Get().(*[]byte)
	defer scratchBuffers.Put(bp) // written by then: the writer copies what it is given
	body, err := h.introspection(c.Request.Context(), token, (*bp)[:0])
	if err != nil {
		h.obs.Introspected(tokenTypeLabel(token), IntrospectionUnavailable)
		h.log.Warn("introspection: store unavailable", "err", err)
		unavailable(c)
		return
	}
	result := IntrospectionActive
	if bytes.Equal(body, inactive) {
		result = IntrospectionInactive
	}
	h.obs.Introspected(tokenTypeLabel(token), result)
	writeJSONBytes(c, introspectionType, body)
}

var introspectionType = []string{"application/json;charset=UTF-8"}

// introspection returns the RFC 7662 answer for token, or the store's
// failure when it cannot tell whether the token is active. An answer,
// made for this request or cached, is appended to dst; a fixed one
// (inactive) is returned as it is.
func (h *introspector) introspection(ctx context.Context, token string, dst []byte) ([]byte, error) {
	switch {
	case keys.LooksLikeKey(token):
		return h.introspectAPIKey(ctx, token, dst)
	case isJWT(token):
		claims, err := h.tokens.checkJWT(ctx, token)
		if err != nil {
			return inactiveOr(err)
		}
		a := newJWTAnswer(claims)
		return a.appendJSON(dst), nil
	case strings.HasPrefix(token, prefixAccess), strings.HasPrefix(token, prefixRefresh):
		body, err := h.tokens.opaqueAnswer(ctx, token, dst)
		if err != nil {
			return inactiveOr(err)
		}
		return body, nil
	}
	return inactive, nil
}

// tokenTypeLabel is the token type label of Observer.Introspected: what
// token looks like (the hint does not change it).
func tokenTypeLabel(token string) string {
	switch {
	case keys.LooksLikeKey(token):
		return TokenTypeLabelAPIKey
	case isJWT(token):
		return TokenTypeLabelAccessToken
	case strings.HasPrefix(token, prefixRefresh):
		return TokenTypeLabelRefreshToken
	case strings.HasPrefix(token, prefixAccess):
		return TokenTypeLabelAccessToken
	}
	return TokenTypeLabelUnknown
}

// inactiveOr is the inactive answer for an invalid token and the error
// itself for a store failure.
func inactiveOr(err error) ([]byte, error) {
	if errors.Is(err, ErrInvalidToken) {
		return inactive, nil
	}
	return nil, err
}

// introspectAPIKey answers for an API key; it does not count against the
// key's rate limit. A key over its limit is still active (it exists and is
// valid; only its use is throttled). There is no iat: the key's creation
// time is not when its current secret was issued (a roll keeps the id),
// and RFC 7662 §2.2 defines iat as the latter. A key the store could not
// be asked about is the store's error, never inactive.
func (h *introspector) introspectAPIKey(ctx context.Context, raw string, dst []byte) ([]byte, error) {
	if h.apiKeys == nil {
		return inactive, nil
	}
	res, err := h.apiKeys.Inspect(ctx, raw)
	if err != nil {
		return nil, err
	}
	if res.Key == nil || !(res.Valid || res.Code == keys.CodeRateLimited) {
		return inactive, nil
	}
	k := res.Key
	out := apiKeyAnswer{Active: true, Iss: h.issuer, KeyID: k.ID, Scope: strings.Join(k.Scopes, " "),
		Sub: apiKeySubject(k), TokenType: "api_key"}
	if !k.ExpiresAt.IsZero() {
		out.Exp = k.ExpiresAt.Unix()
	}
	return out.appendJSON(dst), nil
}

// apiKeySubject is the owner of an API key, or the key itself when it
// has none.
func apiKeySubject(k *keys.APIKey) string {
	if k.OwnerID != "" {
		return k.OwnerID
	}
	return "apikey:" + k.ID
}

// jwtAnswer is the introspection answer of a JWT access token, typed so
// that encoding it walks no map. Its fields are in the order json.Marshal
// sorts a map's keys, so the bytes are those of the map it replaces.
type jwtAnswer struct {
	Active    bool          `json:"active"`
	Aud       []string      `json:"aud,omitempty"`
	ClientID  string        `json:"client_id"`
	Cnf       *Confirmation `json:"cnf,omitempty"`
	Exp       int64         `json:"exp"`
	Iat       int64         `json:"iat"`
	Iss       string        `json:"iss"`
	JTI       string        `json:"jti"`
	Nbf       int64         `json:"nbf"`
	Scope     string        `json:"scope"`
	Sub       string        `json:"sub"`
	TokenType string        `json:"token_type"`
	TokenUse  string        `json:"token_use"`
}

func newJWTAnswer(c *AccessClaims) jwtAnswer {
	a := jwtAnswer{Active: true, Aud: c.Audiences(), ClientID: c.ClientID, Exp: c.ExpiresAt, Iat: c.IssuedAt,
		Iss: c.Issuer, JTI: c.JTI, Nbf: c.NotBefore, Scope: c.Scope, Sub: c.Subject, TokenType: "Bearer",
		TokenUse: "access_token"}
	if jkt := c.DPoPJKT(); jkt != "" {
		// RFC 9449 §6.2.
		a.TokenType, a.Cnf = "DPoP", &Confirmation{JKT: jkt}
	}
	return a
}

// apiKeyAnswer is the introspection answer of an API key (fields sorted
// as jwtAnswer's).
type apiKeyAnswer struct {
	Active    bool   `json:"active"`
	Exp       int64  `json:"exp,omitempty"`
	Iss       string `json:"iss"`
	KeyID     string `json:"key_id"`
	Scope     string `json:"scope"`
	Sub       string `json:"sub"`
	TokenType string `json:"token_type"`
}
