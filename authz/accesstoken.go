package authz

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ory/fosite"
)

// AccessInfo is what a validated access token says.
type AccessInfo struct {
	Subject  string
	ClientID string
	Scopes   []string
	JTI      string

	// Claims are a JWT's claims; Request is an opaque token's stored grant.
	Claims  *AccessClaims
	Request fosite.Requester
}

// ErrInvalidToken is returned by VerifyAccessToken for a token that is
// malformed, expired, revoked or not ours.
var ErrInvalidToken = errors.New("authz: invalid access token")

// VerifyAccessToken validates an access token issued by this server (JWT
// or opaque) for another part of Keyward, e.g. the admin API. It returns
// ErrInvalidToken for any token that introspection would call inactive,
// and the store's failure (wrapped) when it cannot tell.
func (p *Provider) VerifyAccessToken(ctx context.Context, token string) (*AccessInfo, error) {
	return p.tokens.check(ctx, token)
}

// accessTokens checks this server's access tokens.
type accessTokens struct {
	strategy *tokenStrategy
	revoked  *revocationList
	fosite   *fosite.Fosite
}

// check is the one check of an access token behind
// VerifyAccessToken, introspection and UserInfo: signature, expiry and the
// revocation list for a JWT, the stored grant for an opaque token.
// ErrInvalidToken, or a store failure, which must never be answered as an
// invalid token (DESIGN.md: a store failure is never a negative answer).
func (a *accessTokens) check(ctx context.Context, token string) (*AccessInfo, error) {
	if isJWT(token) {
		claims, err := a.strategy.verifyAccessToken(token)
		if err != nil {
			return nil, ErrInvalidToken
		}
		revoked, err := a.revoked.Revoked(ctx, claims.JTI)
		if err != nil {
			return nil, fmt.Errorf("authz: revocation list: %w", err)
		}
		if revoked {
			return nil, ErrInvalidToken
		}
		return &AccessInfo{Subject: claims.Subject, ClientID: claims.ClientID, Scopes: strings.Fields(claims.Scope),
			JTI: claims.JTI, Claims: claims}, nil
	}
	if !strings.HasPrefix(token, prefixAccess) {
		return nil, ErrInvalidToken
	}
	_, ar, err := a.fosite.IntrospectToken(ctx, token, fosite.AccessToken, NewSession(""))
	if err != nil {
		if storeFailure(err) {
			return nil, fmt.Errorf("authz: introspect: %w", err)
		}
		return nil, ErrInvalidToken
	}
	return &AccessInfo{Subject: ar.GetSession().GetSubject(), ClientID: ar.GetClient().GetID(),
		Scopes: ar.GetGrantedScopes(), Request: ar}, nil
}
