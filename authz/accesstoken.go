package authz

import (
	"context"
	"errors"
	"strings"

	"github.com/ory/fosite"
)

// AccessInfo is what a validated access token says.
type AccessInfo struct {
	Subject  string
	ClientID string
	Scopes   []string
	JTI      string
}

// ErrInvalidToken is returned by VerifyAccessToken for a token that is
// malformed, expired, revoked or not ours.
var ErrInvalidToken = errors.New("authz: invalid access token")

// VerifyAccessToken validates an access token issued by this server (JWT
// or opaque) for another part of Keyward, e.g. the admin API. It returns
// ErrInvalidToken for any token that introspection would call inactive.
func (p *Provider) VerifyAccessToken(ctx context.Context, token string) (*AccessInfo, error) {
	if isJWT(token) {
		claims, err := p.strategy.verifyAccessToken(token)
		if err != nil || p.revoked.Revoked(claims.JTI) {
			return nil, ErrInvalidToken
		}
		return &AccessInfo{Subject: claims.Subject, ClientID: claims.ClientID, Scopes: strings.Fields(claims.Scope), JTI: claims.JTI}, nil
	}
	if !strings.HasPrefix(token, prefixAccess) {
		return nil, ErrInvalidToken
	}
	_, ar, err := p.fosite.IntrospectToken(ctx, token, fosite.AccessToken, NewSession(""))
	if err != nil {
		return nil, ErrInvalidToken
	}
	return &AccessInfo{Subject: ar.GetSession().GetSubject(), ClientID: ar.GetClient().GetID(), Scopes: ar.GetGrantedScopes()}, nil
}
