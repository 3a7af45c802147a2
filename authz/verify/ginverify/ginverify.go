package ginverify

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/verify"
)

// claimsKey is the gin context key of the verified claims.
const claimsKey = "github.com/keyward/keyward/authz/verify/ginverify.claims"

// RequireToken returns middleware that admits a request only with a valid
// access token in "Authorization: Bearer" (RFC 6750 §2.1) granting every
// one of scopes. It answers, with WWW-Authenticate (RFC 6750 §3):
//
//   - 401 with no error code when there is no bearer token,
//   - 401 error="invalid_token" when the token does not verify,
//   - 403 error="insufficient_scope" when a scope is missing,
//   - 503 when the issuer's keys cannot be fetched.
//
// On success the claims are available to later handlers through Claims.
func RequireToken(v *verify.Verifier, scopes ...string) gin.HandlerFunc {
	scope := strings.Join(scopes, " ")
	return func(c *gin.Context) {
		token, ok := bearer(c.GetHeader("Authorization"))
		if !ok {
			c.Header("WWW-Authenticate", `Bearer`)
			abort(c, http.StatusUnauthorized, "invalid_request", "A bearer token is required.")
			return
		}
		claims, err := v.VerifyAccessToken(c.Request.Context(), token)
		if err != nil {
			if !errors.Is(err, verify.ErrInvalidToken) {
				c.Header("Retry-After", "5")
				abort(c, http.StatusServiceUnavailable, "temporarily_unavailable", "The token cannot be verified now.")
				return
			}
			c.Header("WWW-Authenticate", `Bearer error="invalid_token", error_description="The access token is invalid or expired."`)
			abort(c, http.StatusUnauthorized, "invalid_token", "The access token is invalid or expired.")
			return
		}
		for _, s := range scopes {
			if !claims.HasScope(s) {
				c.Header("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+scope+`"`)
				abort(c, http.StatusForbidden, "insufficient_scope", "The access token lacks a required scope.")
				return
			}
		}
		c.Set(claimsKey, claims)
		c.Next()
	}
}

// Claims returns the claims RequireToken put in c, or nil.
func Claims(c *gin.Context) *verify.Claims {
	v, _ := c.Get(claimsKey)
	claims, _ := v.(*verify.Claims)
	return claims
}

// bearer extracts the token of an "Authorization: Bearer" header; the
// scheme is case-insensitive (RFC 9110 §11.1).
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

func abort(c *gin.Context, status int, code, desc string) {
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(status, gin.H{"error": code, "error_description": desc})
}
