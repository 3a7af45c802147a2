package ginverify

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/verify"
)

// RequireResource is RequireToken for a protected resource that publishes
// RFC 9728 metadata (serve meta at meta.WellKnownPath()): it admits a
// request only with a valid access token whose aud includes
// meta.Resource (a token for another resource is refused) and that
// grants every one of scopes. Its 401 answers carry
// WWW-Authenticate: Bearer resource_metadata="…" (RFC 9728 §5.1), so a
// client that knows nothing but the resource's URL can discover where to
// get a token; its 403 names the scopes needed (RFC 6750 §3.1), so the
// client can ask for them. It panics when meta does not Validate, a
// mistake of the program.
func RequireResource(v *verify.Verifier, meta *verify.ProtectedResourceMetadata, scopes ...string) gin.HandlerFunc {
	if err := meta.Validate(); err != nil {
		panic(err)
	}
	scope := strings.Join(scopes, " ")
	return func(c *gin.Context) {
		token, ok := bearer(c.GetHeader("Authorization"))
		if !ok {
			c.Header("WWW-Authenticate", meta.Challenge())
			abort(c, http.StatusUnauthorized, "invalid_request", "A bearer token is required.")
			return
		}
		claims, err := v.VerifyAccessToken(c.Request.Context(), token)
		if err == nil {
			err = meta.CheckAudience(claims)
		}
		if err != nil {
			if !errors.Is(err, verify.ErrInvalidToken) {
				c.Header("Retry-After", "5")
				abort(c, http.StatusServiceUnavailable, "temporarily_unavailable", "The token cannot be verified now.")
				return
			}
			desc := "The access token is invalid or expired."
			if errors.Is(err, verify.ErrAudience) {
				desc = "The access token is not for this resource."
			}
			c.Header("WWW-Authenticate", meta.Challenge(`error="invalid_token"`, `error_description="`+desc+`"`))
			abort(c, http.StatusUnauthorized, "invalid_token", desc)
			return
		}
		for _, s := range scopes {
			if !claims.HasScope(s) {
				c.Header("WWW-Authenticate", meta.Challenge(`error="insufficient_scope"`, `scope="`+scope+`"`))
				abort(c, http.StatusForbidden, "insufficient_scope", "The access token lacks a required scope.")
				return
			}
		}
		c.Set(claimsKey, claims)
		c.Next()
	}
}

// bearer returns the token of an "Authorization: Bearer" header value.
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// abort answers an RFC 6750 error as JSON and stops the chain.
func abort(c *gin.Context, status int, code, desc string) {
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(status, gin.H{"error": code, "error_description": desc})
}
