package ginverify

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/verify"
)

// Context keys of the verified credentials.
const (
	claimsKey = "github.com/keyward/keyward/authz/verify/ginverify.claims"
	apiKeyKey = "github.com/keyward/keyward/authz/verify/ginverify.apikey"
)

// RequireToken returns middleware that admits a request only with a valid
// access token in "Authorization: Bearer" (RFC 6750 §2.1) granting every
// one of scopes. It answers, with WWW-Authenticate (RFC 6750 §3):
//
//   - 401 with no error code when there is no bearer token,
//   - 401 error="invalid_token" when the token does not verify, with an
//     error_description naming the check that failed,
//   - 403 error="insufficient_scope" when a scope is missing,
//   - 503 when the issuer's keys cannot be fetched.
//
// A DPoP-bound token (cnf.jkt) is admitted only as "Authorization: DPoP"
// with a proof of its key (RFC 9449 §7.1), as verify.Middleware says.
// On success the claims are available to later handlers through Claims.
// It is Middleware(v, verify.WithScopes(scopes...)).
func RequireToken(v *verify.Verifier, scopes ...string) gin.HandlerFunc {
	return Middleware(v, verify.WithScopes(scopes...))
}

// Middleware is verify.Middleware for gin: the same options, checks and
// answers. The claims are available through Claims, and through
// verify.ClaimsFromContext(c.Request.Context()).
func Middleware(v *verify.Verifier, opts ...verify.Option) gin.HandlerFunc {
	return wrap(verify.Middleware(v, opts...), func(c *gin.Context) {
		c.Set(claimsKey, verify.ClaimsFromContext(c.Request.Context()))
	})
}

// RequireAPIKey returns middleware that admits a request only with a
// valid API key (X-API-Key, or "Authorization: Bearer") holding every one
// of scopes, verified by k; see verify.APIKeyMiddleware. Later handlers
// find the key with APIKey.
func RequireAPIKey(k *verify.APIKeys, scopes ...string) gin.HandlerFunc {
	return APIKeyMiddleware(k, verify.WithScopes(scopes...))
}

// APIKeyMiddleware is verify.APIKeyMiddleware for gin: the same options,
// checks and answers.
func APIKeyMiddleware(k *verify.APIKeys, opts ...verify.Option) gin.HandlerFunc {
	return wrap(verify.APIKeyMiddleware(k, opts...), func(c *gin.Context) {
		c.Set(apiKeyKey, verify.APIKeyFromContext(c.Request.Context()))
	})
}

// wrap runs a net/http middleware as a gin handler: when it admits the
// request, c continues (with the request it passed on, which carries the
// verified credential) after admitted; when it answers, c is aborted.
func wrap(mw func(http.Handler) http.Handler, admitted func(*gin.Context)) gin.HandlerFunc {
	return func(c *gin.Context) {
		passed := false
		mw(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			passed = true
			c.Request = r
			admitted(c)
			c.Next()
		})).ServeHTTP(c.Writer, c.Request)
		if !passed {
			c.Abort()
		}
	}
}

// Claims returns the claims RequireToken or Middleware put in c, or nil.
func Claims(c *gin.Context) *verify.Claims {
	v, _ := c.Get(claimsKey)
	claims, _ := v.(*verify.Claims)
	return claims
}

// APIKey returns the API key RequireAPIKey or APIKeyMiddleware verified
// for c, or nil.
func APIKey(c *gin.Context) *verify.APIKeyResult {
	v, _ := c.Get(apiKeyKey)
	res, _ := v.(*verify.APIKeyResult)
	return res
}
