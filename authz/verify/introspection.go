package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Introspection is an introspection answer (RFC 7662 §2.2). An inactive
// token has Active false and nothing else. Members the answer does not
// hold are zero; Raw and Claim reach every member, Keyward's own and any
// other.
type Introspection struct {
	Active    bool
	Scopes    []string // scope, split on spaces
	ClientID  string
	Username  string
	TokenType string // "Bearer" or "DPoP" for access tokens, "refresh_token", "api_key"
	// TokenUse is Keyward's "token_use": "access_token" or "refresh_token".
	TokenUse  string
	Subject   string
	Issuer    string
	Audience  []string
	JTI       string
	ExpiresAt time.Time
	IssuedAt  time.Time
	NotBefore time.Time
	// KeyID is the API key's id when TokenType is "api_key".
	KeyID string
	// JKT is cnf.jkt for a DPoP-bound token (RFC 9449 §6.2).
	JKT string
	// Raw holds every member as encoding/json decodes it into any.
	Raw map[string]any

	raw map[string]json.RawMessage
}

// HasScope reports whether the token holds scope s.
func (i *Introspection) HasScope(s string) bool { return i != nil && slices.Contains(i.Scopes, s) }

// Claim decodes the member called name into out (a pointer, as for
// json.Unmarshal); the error matches ErrClaimNotFound when it is absent.
func (i *Introspection) Claim(name string, out any) error { return decodeMember(i.raw, name, out) }

// introspection is the wire form of the members Introspection types.
type introspection struct {
	Active    *bool           `json:"active"`
	Scope     string          `json:"scope"`
	ClientID  string          `json:"client_id"`
	Username  string          `json:"username"`
	TokenType string          `json:"token_type"`
	TokenUse  string          `json:"token_use"`
	Subject   string          `json:"sub"`
	Issuer    string          `json:"iss"`
	Audience  json.RawMessage `json:"aud"`
	JTI       string          `json:"jti"`
	ExpiresAt *json.Number    `json:"exp"`
	IssuedAt  *json.Number    `json:"iat"`
	NotBefore *json.Number    `json:"nbf"`
	KeyID     string          `json:"key_id"`
	Cnf       *struct {
		JKT string `json:"jkt"`
	} `json:"cnf"`
}

// IntrospectToken asks the issuer's introspection endpoint (RFC 7662)
// about token, authenticating with Config.ClientID and ClientSecret. An
// inactive token is not an error: the answer then has Active false.
// Unlike VerifyAccessToken this sees revocation, and it answers for
// opaque tokens, refresh tokens and API keys too. Errors:
// ErrNoClientCredentials, ErrNotSupported, *ServerError (e.g. wrong client
// credentials), ErrUnavailable.
func (v *Verifier) IntrospectToken(ctx context.Context, token string) (*Introspection, error) {
	if v.cfg.ClientID == "" {
		return nil, ErrNoClientCredentials
	}
	return v.introspect(ctx, v.cfg.ClientID, v.cfg.ClientSecret, token)
}

// Introspect asks the issuer's introspection endpoint about token,
// authenticating as the confidential client clientID, and returns the
// JSON object it answers.
//
// Deprecated: use IntrospectToken, which returns a typed Introspection
// (its Raw member is what Introspect returns).
func (v *Verifier) Introspect(ctx context.Context, clientID, clientSecret, token string) (map[string]any, error) {
	info, err := v.introspect(ctx, clientID, clientSecret, token)
	if err != nil {
		return nil, err
	}
	return info.Raw, nil
}

func (v *Verifier) introspect(ctx context.Context, clientID, clientSecret, token string) (*Introspection, error) {
	if v.introspectURI == "" {
		return nil, fmt.Errorf("%w: introspection_endpoint", ErrNotSupported)
	}
	form := url.Values{"token": {token}}
	var body json.RawMessage
	if err := v.post(ctx, v.introspectURI, clientID, clientSecret, "application/x-www-form-urlencoded",
		[]byte(form.Encode()), &body); err != nil {
		return nil, err
	}
	info, err := parseIntrospection(body)
	if err != nil {
		return nil, fmt.Errorf("%w: introspection answer: %v", ErrUnavailable, err)
	}
	return info, nil
}

func parseIntrospection(body []byte) (*Introspection, error) {
	var w introspection
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&w); err != nil {
		return nil, err
	}
	if w.Active == nil {
		return nil, fmt.Errorf("no boolean active")
	}
	info := &Introspection{Active: *w.Active, Scopes: strings.Fields(w.Scope), ClientID: w.ClientID,
		Username: w.Username, TokenType: w.TokenType, TokenUse: w.TokenUse, Subject: w.Subject,
		Issuer: w.Issuer, JTI: w.JTI, KeyID: w.KeyID}
	if err := json.Unmarshal(body, &info.Raw); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(body, &info.raw); err != nil {
		return nil, err
	}
	if w.Cnf != nil {
		info.JKT = w.Cnf.JKT
	}
	if len(w.Audience) > 0 && string(w.Audience) != "null" {
		aud, err := audience(w.Audience)
		if err != nil {
			return nil, err
		}
		info.Audience = aud
	}
	var err error
	for _, d := range []struct {
		name string
		n    *json.Number
		out  *time.Time
	}{{"exp", w.ExpiresAt, &info.ExpiresAt}, {"iat", w.IssuedAt, &info.IssuedAt}, {"nbf", w.NotBefore, &info.NotBefore}} {
		if *d.out, err = numericDate(d.name, d.n, false); err != nil {
			return nil, err
		}
	}
	return info, nil
}

// IntrospectAccessToken checks token as an access token for this
// resource server at the issuer, so revocation is seen at once and opaque
// tokens work too: a JWT is first verified locally (VerifyAccessToken,
// so a forged token costs no request), then the issuer is asked. The
// answer must be active (else ErrRevoked), an access token (not a refresh
// token or an API key: ErrTokenType), from the configured issuer, within
// its lifetime and, when Config.Audience is set, for that audience. It
// needs Config.ClientID and ClientSecret; errors are a *TokenError, or
// ErrNoClientCredentials, *ServerError, ErrUnavailable.
func (v *Verifier) IntrospectAccessToken(ctx context.Context, token string) (*Claims, error) {
	if v.cfg.ClientID == "" {
		return nil, ErrNoClientCredentials
	}
	var local *Claims
	if isJWT(token) {
		c, err := v.VerifyAccessToken(ctx, token)
		if err != nil {
			return nil, err
		}
		local = c
	}
	info, err := v.IntrospectToken(ctx, token)
	if err != nil {
		return nil, err
	}
	if !info.Active {
		return nil, newTokenError(ErrRevoked, "introspection: active false")
	}
	if (info.TokenUse != "" && info.TokenUse != "access_token") ||
		(info.TokenType != "" && !strings.EqualFold(info.TokenType, "Bearer") && !strings.EqualFold(info.TokenType, "DPoP")) {
		return nil, newTokenError(ErrTokenType, fmt.Sprintf("introspection: token_type %q, token_use %q", info.TokenType, info.TokenUse))
	}
	if local != nil {
		return local, nil
	}
	c := &Claims{Issuer: info.Issuer, Subject: info.Subject, ClientID: info.ClientID, Scopes: info.Scopes,
		Audience: info.Audience, ExpiresAt: info.ExpiresAt, IssuedAt: info.IssuedAt, NotBefore: info.NotBefore,
		JTI: info.JTI, JKT: info.JKT, Raw: info.Raw, raw: info.raw}
	if c.Issuer == "" {
		c.Issuer = v.cfg.Issuer // RFC 7662 makes iss optional; the issuer answered
	}
	if err := v.checkClaimValues(c); err != nil {
		return nil, err
	}
	return c, nil
}

// isJWT reports whether token has the shape of a compact JWS; Keyward's
// opaque tokens start with "kw_".
func isJWT(token string) bool {
	return strings.Count(token, ".") == 2 && !strings.HasPrefix(token, "kw_")
}
