package authz

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// CORS (the Fetch standard's CORS protocol) lets browser apps call the
// endpoints they need. Two policies:
//
//   - Discovery and the JWKS are public documents: any origin may read
//     them ("*"), and the JWKS exposes ETag and Cache-Control so a page can
//     revalidate with If-None-Match.
//   - The token, revocation and UserInfo endpoints answer only the origins
//     of registered redirect URIs (corsOrigins). "*" would be safe too:
//     none of them reads a cookie, and each needs a code with its PKCE
//     verifier, a token or a client secret that a foreign page does not
//     have. The allow-list is least privilege for one map lookup: only the
//     pages codes can be sent to need these answers. Any other page gets
//     no preflight permission (so no Authorization header) and cannot read
//     what a simple request returns. Credentials mode is never allowed: an
//     Authorization header a page sets itself needs no cookies.
//
// Introspection and API-key verification are for servers and get no CORS.

// corsMaxAge is how long a browser may cache a preflight answer (seconds).
const corsMaxAge = "600"

// publicCORS marks a public document readable from any origin, exposing
// the response headers in expose (none when empty).
func publicCORS(expose string) gin.HandlerFunc {
	exposed := []string{expose}
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h["Access-Control-Allow-Origin"] = anyOrigin
		if expose != "" {
			h["Access-Control-Expose-Headers"] = exposed
		}
	}
}

// publicPreflight answers a CORS preflight for a public document: GET or
// HEAD from anywhere, with If-None-Match for revalidation.
func publicPreflight(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Allow", "GET, HEAD, OPTIONS")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET, HEAD")
	h.Set("Access-Control-Allow-Headers", "If-None-Match")
	h.Set("Access-Control-Max-Age", corsMaxAge)
	c.AbortWithStatus(http.StatusNoContent)
}

// clientCORS lets an allowed origin read the answer of a client endpoint;
// any other origin gets no CORS headers (the browser then keeps the answer
// from the page). Requests without Origin pay one header lookup.
func (p *Provider) clientCORS(c *gin.Context) {
	origin := c.Request.Header.Get("Origin")
	if origin == "" {
		return
	}
	h := c.Writer.Header()
	varyOrigin(h)
	if p.cors.allowed(c.Request.Context(), origin) {
		h.Set("Access-Control-Allow-Origin", origin)
		h["Access-Control-Expose-Headers"] = clientExposed
	}
}

// clientPreflight answers a CORS preflight for a client endpoint that
// takes methods: 204, with the permissions only for an allowed origin. The
// browser itself checks the method and headers it wants against them.
func (p *Provider) clientPreflight(methods string) gin.HandlerFunc {
	return func(c *gin.Context) {
		r := c.Request
		h := c.Writer.Header()
		h.Set("Allow", methods+", OPTIONS")
		varyOrigin(h)
		if origin := r.Header.Get("Origin"); origin != "" && p.cors.allowed(r.Context(), origin) {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Methods", methods)
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, DPoP")
			h.Set("Access-Control-Max-Age", corsMaxAge)
		}
		c.AbortWithStatus(http.StatusNoContent)
	}
}

// varyOrigin adds Origin to Vary, without an allocation when it is the
// only value.
func varyOrigin(h http.Header) {
	if len(h["Vary"]) == 0 {
		h["Vary"] = varyOriginValue
		return
	}
	h.Add("Vary", "Origin")
}

var varyOriginValue = []string{"Origin"}
