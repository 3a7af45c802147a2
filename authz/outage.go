package authz

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/store"
)

// unavailableError marks a failure of the store (an unreachable database,
// a timeout) as it crosses into fosite, so the endpoints can tell it from
// a token or client that does not exist: a store failure is answered 503
// with Retry-After, never as a negative protocol answer (DESIGN.md).
type unavailableError struct{ err error }

func (e *unavailableError) Error() string { return "store unavailable: " + e.err.Error() }
func (e *unavailableError) Unwrap() error { return e.err }

// storeFailure reports whether err (possibly wrapped by fosite) is a store
// failure rather than a protocol answer: marked on its way into fosite,
// or classified by the store itself (store.ErrUnavailable, e.g. from an
// API-key lookup that a grant handler wrapped as a server error).
func storeFailure(err error) bool {
	var u *unavailableError
	return errors.As(err, &u) || errors.Is(err, store.ErrUnavailable)
}

// retryAfter is the Retry-After, in seconds, of a 503 during an outage.
const retryAfter = "2"

// unavailable answers 503 temporarily_unavailable (RFC 6749 §4.1.2.1 names
// the code; the token, introspection and revocation endpoints use it too)
// with Retry-After, and aborts.
func unavailable(c *gin.Context) {
	noteError(c, "temporarily_unavailable")
	c.Header("Retry-After", retryAfter)
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(http.StatusServiceUnavailable, gin.H{"error": "temporarily_unavailable",
		"error_description": "The service is temporarily unavailable; retry shortly."})
}
