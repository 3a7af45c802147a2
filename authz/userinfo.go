package authz

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/ory/fosite"

	"github.com/keyward/keyward/store"
)

// userinfo is the UserInfo endpoint (OIDC Core §5.3): the standard claims
// of the token's user for the granted profile and email scopes.
func (p *Provider) userinfo(c *gin.Context) {
	ctx, r := c.Request.Context(), c.Request
	token, ok := bearer(r)
	if r.Method == http.MethodPost {
		// A body over 1 MiB is 413 and a malformed one 400 (RFC 6750
		// §3.1 invalid_request), never a 401 for a token not found.
		if !parseCappedForm(c) {
			return
		}
		if !ok {
			token, ok = r.PostForm.Get("access_token"), r.PostForm.Get("access_token") != ""
		}
	}
	if !ok {
		c.Header("WWW-Authenticate", `Bearer realm="keyward"`)
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "invalid_request", "error_description": "A bearer access token is required."})
		return
	}
	sub, scopes, ok := p.accessTokenSubject(c, token)
	if !ok || !slices.Contains(scopes, "openid") {
		c.Header("WWW-Authenticate", `Bearer realm="keyward", error="invalid_token"`)
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "invalid_token", "error_description": "The access token is not valid for UserInfo."})
		return
	}
	u, err := p.cfg.Store.GetUser(ctx, sub)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		c.Header("WWW-Authenticate", `Bearer realm="keyward", error="invalid_token"`)
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "invalid_token", "error_description": "The user no longer exists."})
		return
	}
	if err != nil {
		c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": "temporarily_unavailable"})
		return
	}
	out := gin.H{"sub": u.ID}
	if slices.Contains(scopes, "profile") {
		out["preferred_username"] = u.Username
		if u.Name != "" {
			out["name"] = u.Name
		}
		out["updated_at"] = u.UpdatedAt.Unix()
	}
	if slices.Contains(scopes, "email") && u.Email != "" {
		out["email"] = u.Email
		out["email_verified"] = u.EmailVerified
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, out)
}

// bearer returns the token of an Authorization: Bearer header (RFC 6750 §2.1).
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 8 || !strings.EqualFold(h[:7], "Bearer ") {
		return "", false
	}
	t := strings.TrimSpace(h[7:])
	return t, t != ""
}

// accessTokenSubject validates an access token (JWT or opaque) and returns
// its subject and scopes.
func (p *Provider) accessTokenSubject(c *gin.Context, token string) (string, []string, bool) {
	if isJWT(token) {
		claims, err := p.strategy.verifyAccessToken(token)
		if err != nil || p.revoked.Revoked(claims.JTI) {
			return "", nil, false
		}
		return claims.Subject, strings.Fields(claims.Scope), true
	}
	if !strings.HasPrefix(token, prefixAccess) {
		return "", nil, false
	}
	_, ar, err := p.fosite.IntrospectToken(c.Request.Context(), token, fosite.AccessToken, NewSession(""))
	if err != nil {
		return "", nil, false
	}
	return ar.GetSession().GetSubject(), ar.GetGrantedScopes(), true
}
