package authz

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/store"
)

// userInfo is the UserInfo endpoint (OIDC Core §5.3).
type userInfo struct {
	tokens *accessTokens
	users  interface {
		GetUser(ctx context.Context, id string) (*store.User, error)
	}
	log *slog.Logger
	// dpop checks the DPoP proofs of DPoP-bound tokens (RFC 9449 §7);
	// dpopHTU is this endpoint's URL.
	dpop    *dpopChecker
	dpopHTU string
}

// serve answers the standard claims of the token's user for the granted
// profile and email scopes.
func (h *userInfo) serve(c *gin.Context) {
	ctx, r := c.Request.Context(), c.Request
	token, ok := bearer(r)
	dpopScheme := false
	if !ok {
		token, ok = dpopToken(r)
		dpopScheme = ok
	}
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
		noteError(c, "invalid_request")
		c.Header("WWW-Authenticate", `Bearer realm="keyward"`)
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "invalid_request", "error_description": "A bearer access token is required."})
		return
	}
	info, err := h.tokens.check(ctx, token)
	if err != nil && !errors.Is(err, ErrInvalidToken) {
		h.log.Warn("userinfo: store unavailable", "err", err)
		unavailable(c)
		return
	}
	if err != nil {
		noteError(c, "invalid_token")
		c.Header("WWW-Authenticate", `Bearer realm="keyward", error="invalid_token"`)
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "invalid_token", "error_description": "The access token is not valid for UserInfo."})
		return
	}
	if !h.checkDPoP(c, info, token, dpopScheme) {
		return
	}
	if !slices.Contains(info.Scopes, "openid") {
		// RFC 6750 §3.1 (OIDC Core §5.3.3): a valid token without the
		// scope UserInfo needs; the scope attribute names it, so the
		// client can ask for it (step-up).
		noteError(c, "insufficient_scope")
		c.Header("WWW-Authenticate", `Bearer realm="keyward", error="insufficient_scope", scope="openid"`)
		c.AbortWithStatusJSON(http.StatusForbidden, gin.H{"error": "insufficient_scope",
			"error_description": "UserInfo needs an access token with the openid scope.", "scope": "openid"})
		return
	}
	sub, scopes := info.Subject, info.Scopes
	u, err := h.users.GetUser(ctx, sub)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		noteError(c, "invalid_token")
		c.Header("WWW-Authenticate", `Bearer realm="keyward", error="invalid_token"`)
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "invalid_token", "error_description": "The user no longer exists."})
		return
	}
	if err != nil {
		unavailable(c)
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
