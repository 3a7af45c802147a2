package authz

import (
	"slices"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"

	"github.com/keyward/keyward/keys"
)

// Session is what Keyward keeps with every grant: the OpenID Connect
// session (subject, ID-token claims and headers, expiries) and the jti and
// expiry of the last JWT access token issued from it, so revoking the grant
// can put that jti on the revocation list.
type Session struct {
	*openid.DefaultSession `json:"oidc"`
	// AccessJTI is the jti of the access token issued with this session.
	AccessJTI string `json:"access_jti,omitempty"`
	// AccessFormat is "jwt" or "opaque".
	AccessFormat string `json:"access_format,omitempty"`
	// UserID is the signed-in user ("" for client credentials).
	UserID string `json:"user_id,omitempty"`
	// Kind marks sessions created by token exchange of an API key.
	Kind string `json:"kind,omitempty"`
	// APIKey is, for token exchange, the key and secret the token was
	// exchanged for: the token is active only while they hold.
	APIKey keys.Binding `json:"api_key,omitzero"`
	// GrantResources are the RFC 8707 resources granted at authorization:
	// every token request of the grant may ask for them or a subset
	// (resourceIndicators).
	GrantResources []string `json:"grant_resources,omitempty"`
	// DPoPJKT is the RFC 7638 thumbprint of the DPoP key the grant's
	// tokens are bound to (RFC 9449 §6: the access token's cnf.jkt); on an
	// authorization code, the dpop_jkt it was requested for (§10).
	DPoPJKT string `json:"dpop_jkt,omitempty"`
	// stateless is set when the access token just generated is a JWT of a
	// grant with nothing to revoke (client credentials): fosite hands the
	// storage a sanitized request without grant types, so the strategy
	// decides and the storage reads it here.
	stateless bool
}

var (
	_ fosite.Session = (*Session)(nil)
	_ openid.Session = (*Session)(nil)
)

// NewSession returns an empty session for subject.
func NewSession(subject string) *Session {
	// One allocation for the four structs a session is made of (every
	// token request makes one), and one for each map.
	b := &struct {
		s Session
		d openid.DefaultSession
		c jwt.IDTokenClaims
		h jwt.Headers
	}{}
	b.c.Subject, b.c.Extra = subject, map[string]interface{}{}
	b.h.Extra = map[string]interface{}{}
	b.d.Claims, b.d.Headers, b.d.Subject = &b.c, &b.h, subject
	b.s.DefaultSession = &b.d
	return &b.s
}

// Clone implements fosite.Session, keeping Keyward's fields (the embedded
// DefaultSession's Clone would drop them); nothing of the copy is shared
// with s.
func (s *Session) Clone() fosite.Session {
	if s == nil {
		return nil
	}
	c := *s
	c.GrantResources = slices.Clone(s.GrantResources)
	if s.DefaultSession != nil {
		c.DefaultSession = cloneOIDCSession(s.DefaultSession)
	}
	return &c
}

// SetExpiresAt implements fosite.Session.
func (s *Session) SetExpiresAt(key fosite.TokenType, exp time.Time) {
	s.ensure()
	s.DefaultSession.SetExpiresAt(key, exp)
}

// GetExpiresAt implements fosite.Session.
func (s *Session) GetExpiresAt(key fosite.TokenType) time.Time {
	s.ensure()
	return s.DefaultSession.GetExpiresAt(key)
}

// GetSubject implements fosite.Session.
func (s *Session) GetSubject() string {
	s.ensure()
	return s.DefaultSession.GetSubject()
}

// GetUsername implements fosite.Session.
func (s *Session) GetUsername() string {
	s.ensure()
	return s.DefaultSession.GetUsername()
}

// IDTokenClaims implements openid.Session.
func (s *Session) IDTokenClaims() *jwt.IDTokenClaims {
	s.ensure()
	return s.DefaultSession.IDTokenClaims()
}

// IDTokenHeaders implements openid.Session.
func (s *Session) IDTokenHeaders() *jwt.Headers {
	s.ensure()
	return s.DefaultSession.IDTokenHeaders()
}

func (s *Session) ensure() {
	if s.DefaultSession == nil {
		s.DefaultSession = NewSession("").DefaultSession
	}
}
