package authz

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store"
)

// AccessInfo is what a validated access token says.
type AccessInfo struct {
	Subject  string
	ClientID string
	Scopes   []string
	JTI      string
	Audience []string
	// DPoPJKT is the thumbprint of the DPoP key the token is bound to
	// (RFC 9449 §6); "" for a bearer token.
	DPoPJKT string

	// Claims are a JWT's claims (nil for an opaque token).
	Claims *AccessClaims
}

// ErrInvalidToken is returned by VerifyAccessToken for a token that is
// malformed, expired, revoked or not ours.
var ErrInvalidToken = errors.New("authz: invalid access token")

// VerifyAccessToken validates an access token issued by this server (JWT
// or opaque) for Keyward itself, e.g. the admin API. It returns
// ErrInvalidToken for any token that introspection would call inactive,
// and for a token minted for another resource server: its aud may name
// only the client itself (the audience a token without another one
// carries) or the issuer, so a resource server cannot replay a token it
// received (RFC 9700 §2.3, RFC 8707). It is a bearer-token check: a
// DPoP-bound token (cnf.jkt) is ErrInvalidToken, since it is valid only
// with a proof of its key (RFC 9449 §7). A store failure comes back
// wrapped, never as ErrInvalidToken.
func (p *Provider) VerifyAccessToken(ctx context.Context, token string) (*AccessInfo, error) {
	info, err := p.tokens.check(ctx, token)
	if err != nil {
		return nil, err
	}
	if info.DPoPJKT != "" {
		return nil, fmt.Errorf("%w: a DPoP-bound token presented as a bearer token", ErrInvalidToken)
	}
	for _, aud := range info.Audience {
		if aud != info.ClientID && aud != p.cfg.Issuer {
			return nil, fmt.Errorf("%w: audience %q is another resource server", ErrInvalidToken, aud)
		}
	}
	return info, nil
}

// accessTokens checks this server's access tokens.
type accessTokens struct {
	strategy *tokenStrategy
	revoked  *revocationList
	clients  *clients.Cache
	apiKeys  APIKeyVerifier // nil: tokens exchanged for API keys are inactive
	// records are the opaque access tokens' records, their answers cached
	// in opaque (nil: every opaque token is read from the store).
	records *fositeStore
	opaque  *opaqueCache
	issuer  string
}

// IATLeeway is how far in the future a token's iat may be (clock skew
// between instances) before the token is refused.
const IATLeeway = time.Minute

// check is the one check of an access token behind
// VerifyAccessToken, introspection and UserInfo: signature, expiry, iat and
// the revocation list for a JWT, the stored grant for an opaque token; and
// for both, that the client it was issued to still exists and is enabled
// (from the client cache, which every instance drops a client from when it
// changes).
// ErrInvalidToken, or a store failure, which must never be answered as an
// invalid token (DESIGN.md: a store failure is never a negative answer).
func (a *accessTokens) check(ctx context.Context, token string) (*AccessInfo, error) {
	if isJWT(token) {
		claims, err := a.checkJWT(ctx, token)
		if err != nil {
			return nil, err
		}
		return &AccessInfo{Subject: claims.Subject, ClientID: claims.ClientID, Scopes: strings.Fields(claims.Scope),
			JTI: claims.JTI, Audience: claims.Audiences(), DPoPJKT: claims.DPoPJKT(), Claims: claims}, nil
	}
	if !strings.HasPrefix(token, prefixAccess) {
		return nil, ErrInvalidToken
	}
	return a.opaqueInfo(ctx, token)
}

// checkJWT is check for a JWT access token, returning its claims alone
// (introspection needs nothing else, and so does not build an AccessInfo).
func (a *accessTokens) checkJWT(ctx context.Context, token string) (*AccessClaims, error) {
	claims, err := a.strategy.verifyAccessToken(token)
	if err != nil {
		return nil, ErrInvalidToken
	}
	revoked, err := a.revoked.Revoked(ctx, claims.JTI)
	if err != nil {
		return nil, fmt.Errorf("authz: revocation list: %w", err)
	}
	if revoked || claims.IssuedAt > a.strategy.now().Add(IATLeeway).Unix() {
		return nil, ErrInvalidToken
	}
	if err := a.clientActive(ctx, claims.ClientID); err != nil {
		return nil, err
	}
	if err := a.keyActive(ctx, claims); err != nil {
		return nil, err
	}
	return claims, nil
}

// keyActive returns ErrInvalidToken for a token exchanged for an API key
// that has since been revoked, disabled, has expired or was rolled past
// its grace period, and the store's failure when it cannot tell.
func (a *accessTokens) keyActive(ctx context.Context, claims *AccessClaims) error {
	if claims.APIKeyID == "" {
		return nil
	}
	if a.apiKeys == nil {
		return ErrInvalidToken
	}
	ok, err := a.apiKeys.Bound(ctx, keys.Binding{KeyID: claims.APIKeyID, Secret: claims.APIKeySecret})
	switch {
	case err != nil:
		return fmt.Errorf("authz: api key %q: %w", claims.APIKeyID, err)
	case !ok:
		return ErrInvalidToken
	}
	return nil
}

// clientActive returns ErrInvalidToken unless client id exists and is
// enabled, and the store's failure when it cannot tell. A
// metadata-document client (cimd.go) cannot be disabled, and its tokens
// do not depend on its web site answering: it is taken as active.
func (a *accessTokens) clientActive(ctx context.Context, id string) error {
	if isCIMDClientID(id) {
		return nil
	}
	c, err := a.clients.Get(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ErrInvalidToken
	case err != nil:
		return fmt.Errorf("authz: client %q: %w", id, err)
	case c.Disabled:
		return ErrInvalidToken
	}
	return nil
}
