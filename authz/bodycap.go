package authz

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
)

// parseCappedForm caps the request body at maxBody and parses the form
// (the query and, for a form POST, the body); every endpoint that reads a
// form uses it. When it cannot, it answers 413 (RFC 9110 §15.5.14) for a
// body over the cap or 400 invalid_request for a malformed form, as JSON in
// RFC 6749 §5.2 form, and returns false. Neither answer is a redirect: no
// parameter of a form that could not be read, redirect_uri included, can
// be trusted.
func parseCappedForm(c *gin.Context) bool {
	r := c.Request
	if r.Body != nil {
		r.Body = http.MaxBytesReader(c.Writer, r.Body, maxBody)
	}
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			oauthError(c, http.StatusRequestEntityTooLarge, "invalid_request", "The request body is larger than 1 MiB.")
		} else {
			oauthError(c, http.StatusBadRequest, "invalid_request", "The request is not a valid form.")
		}
		return false
	}
	return true
}
