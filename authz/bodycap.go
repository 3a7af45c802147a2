package authz

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
)

// capForm caps the request body at maxBody and parses the form (the query
// and, for a form POST, the body). It returns 0, or the status to answer:
// 413 (RFC 9110 §15.5.14) for a body over the cap, 400 for a form that
// cannot be read. No parameter of a form that could not be read,
// redirect_uri included, can be trusted, so neither answer is a redirect.
func capForm(c *gin.Context) int {
	r := c.Request
	if r.Body != nil {
		r.Body = http.MaxBytesReader(c.Writer, r.Body, maxBody)
	}
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return http.StatusRequestEntityTooLarge
		}
		return http.StatusBadRequest
	}
	return 0
}

// parseCappedForm is capForm for the protocol endpoints: it answers 413
// or 400 invalid_request as JSON in RFC 6749 §5.2 form and returns false
// when the form cannot be read.
func parseCappedForm(c *gin.Context) bool {
	status, done := quickForm(c)
	if !done {
		status = capForm(c)
	}
	switch status {
	case 0:
		return true
	case http.StatusRequestEntityTooLarge:
		oauthError(c, http.StatusRequestEntityTooLarge, "invalid_request", "The request body is larger than 1 MiB.")
	default:
		oauthError(c, http.StatusBadRequest, "invalid_request", "The request is not a valid form.")
	}
	return false
}

// parsePageForm is capForm for the pages a person's browser posts to
// (login, consent, logout): it also refuses a form that is not UTF-8,
// and answers with an HTML page, returning false, when it cannot read the
// form.
func (b *browserFlow) parsePageForm(c *gin.Context) bool {
	status := capForm(c)
	if status == 0 && !validUTF8Form(c.Request) {
		status = http.StatusBadRequest
	}
	switch status {
	case 0:
		return true
	case http.StatusRequestEntityTooLarge:
		b.pages.render(c.Writer, c.Request, status, "message.html", pageData{Title: tr("Request too large"),
			Message: tr("The form is larger than 1 MiB, so it was not read.")})
	default:
		b.pages.render(c.Writer, c.Request, status, "message.html", pageData{Title: tr("Bad request"), Message: tr("The form could not be read.")})
	}
	return false
}
