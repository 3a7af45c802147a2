package authz

import (
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"
)

// Header values shared by every answer that carries them, so setting one
// allocates nothing: net/http never changes a value in place, and
// appending to one (Header.Add) copies it, since its capacity is full.
var (
	anyOrigin     = []string{"*"}
	clientExposed = []string{"WWW-Authenticate, Retry-After, DPoP-Nonce"}
)

// noStore is the Cache-Control of every answer that holds a token or a
// token's state (RFC 6749 §5.1), shared like the values above.
var noStore = []string{"no-store"}

// noCache is the Pragma of the token endpoint's answers (RFC 6749 §5.1).
var noCache = []string{"no-cache"}

// scratchBuffers hold bytes a request makes and is done with before it
// ends: access-token claims while they are signed, and the JSON answers
// of the token endpoint, introspection and verify until they are written
// (the response writer copies what it is given into its own buffer or the
// connection before Write returns, so the buffer goes back once the
// handler has written it). 1 KiB holds an ES256 token response.
var scratchBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// writeJSONBytes answers 200 with body, of the content type in ct, and
// Cache-Control: no-store; the header values are shared, so the answer
// allocates nothing but what net/http does.
func writeJSONBytes(c *gin.Context, ct []string, body []byte) {
	h := c.Writer.Header()
	h["Cache-Control"] = noStore
	h["Content-Type"] = ct
	c.Status(http.StatusOK)
	c.Writer.Write(body)
}
