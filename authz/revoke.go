package authz

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ory/fosite"
)

// revoke is the revocation endpoint (RFC 7009). Refresh tokens revoke
// their whole grant; JWT access tokens join the jti revocation list.
func (p *Provider) revoke(c *gin.Context) {
	if !readForm(c) {
		return
	}
	if c.Request.PostForm.Get("token") == "" {
		oauthError(c, http.StatusBadRequest, "invalid_request", "The token parameter is missing.")
		return
	}
	// RFC 7009 §2.1: authenticate first. fosite's own failures wrap
	// ErrInvalidRequest (no credentials) or ErrNotFound (unknown client),
	// which below would pass for "unknown token" and answer 200.
	if _, ok := p.auth.require(c, c.Request.PostForm, false); !ok {
		return
	}
	err := p.oauth.NewRevocationRequest(c.Request.Context(), c.Request)
	c.Header("Cache-Control", "no-store")
	switch {
	case err == nil, errors.Is(err, fosite.ErrInvalidRequest), errors.Is(err, fosite.ErrNotFound):
		// RFC 7009 §2.2: an unknown or invalid token is not an error.
		c.Status(http.StatusOK)
	case errors.Is(err, fosite.ErrInvalidClient):
		c.Header("WWW-Authenticate", `Basic realm="keyward", charset="UTF-8"`)
		oauthError(c, http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
	case errors.Is(err, fosite.ErrUnauthorizedClient):
		oauthError(c, http.StatusBadRequest, "unauthorized_client", "The token was issued to another client.")
	default:
		p.cfg.Logger.Error("revocation failed", "err", err)
		unavailable(c)
	}
}

// jwtRevocationHandler revokes JWT access tokens (fosite's own handler
// only knows stored tokens): the token's jti is listed until it expires,
// on every instance.
type jwtRevocationHandler struct{ p *Provider }

var _ fosite.RevocationHandler = (*jwtRevocationHandler)(nil)

// RevokeToken implements fosite.RevocationHandler. It returns
// fosite.ErrUnknownRequest for anything that is not a JWT of ours, so the
// next handler can try; ErrUnauthorizedClient when the token belongs to
// another client (RFC 7009 §2.1).
func (h *jwtRevocationHandler) RevokeToken(ctx context.Context, token string, _ fosite.TokenType, client fosite.Client) error {
	if !isJWT(token) {
		return fosite.ErrUnknownRequest
	}
	claims, err := h.p.strategy.verifyAccessToken(token)
	if errors.Is(err, fosite.ErrTokenExpired) {
		return nil // nothing left to revoke
	}
	if err != nil {
		return fosite.ErrUnknownRequest
	}
	if claims.ClientID != client.GetID() {
		return fosite.ErrUnauthorizedClient.WithHint("The token was issued to another client.")
	}
	if err := h.p.revoked.Revoke(ctx, claims.JTI, time.Unix(claims.ExpiresAt, 0)); err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	if h.p.cfg.Auditor != nil {
		_ = h.p.cfg.Auditor.Record(ctx, "access_token.revoked", claims.JTI, map[string]any{"client_id": claims.ClientID})
	}
	return nil
}
