package authz

import (
	"net/http"
	"strconv"

	"github.com/ory/fosite"

	"github.com/keyward/keyward/authz/accounts"
)

// errorPage shows an authorization error to the person whose browser
// brought the request, for when the browser may not be sent back to the
// client: the client is unknown or its redirect URI is missing, not
// registered or invalid (RFC 6749 §3.1.2.4, §4.1.2.1), or the request
// could not be read at all. The HTML page says in a sentence what went
// wrong, with the error code and fosite's hint for the developer. A store
// failure is 503 temporarily_unavailable with Retry-After (outagePage),
// never "unknown client".
func (b *browserFlow) errorPage(w http.ResponseWriter, r *http.Request, err error) {
	if storeFailure(err) {
		b.log.Warn("authorization request: store unavailable", "err", err)
		b.outagePage(w, r)
		return
	}
	e := fosite.ErrorToRFC6749Error(err)
	d := pageData{Code: e.ErrorField, Detail: e.HintField}
	if d.Detail == "" {
		d.Detail = e.DescriptionField
	}
	status := e.CodeField
	switch {
	case e.ErrorField == fosite.ErrInvalidClient.ErrorField:
		// 401 would call for WWW-Authenticate; a browser has nothing to
		// authenticate with here.
		status = http.StatusBadRequest
		d.Title = tr("Unknown application")
		d.Message = tr("The application that sent you here is not registered with this server, or has been disabled, so you cannot sign in to it here. " +
			"If you followed a link or a bookmark, it may be out of date.")
	case status >= 500:
		b.log.Error("authorization request failed", "err", err)
		d.Title = tr("Something went wrong")
		d.Message = tr("This sign-in request could not be handled. Please try again later.")
		d.Detail = ""
	default:
		if status < 400 {
			status = http.StatusBadRequest
		}
		d.Title = tr("Invalid sign-in request")
		d.Message = tr("The application that sent you here made a request this server cannot accept, so you cannot be sent back to it. " +
			"Go back to the application and try again; if it keeps happening, tell its developers.")
	}
	b.pages.render(w, r, status, "error.html", d)
}

// badRequestPage is errorPage for a request refused before fosite read
// it: invalid_request with hint, answered with status (400 or 413).
func (b *browserFlow) badRequestPage(w http.ResponseWriter, r *http.Request, status int, hint string) {
	e := fosite.ErrInvalidRequest.WithHint(hint)
	e.CodeField = status
	b.errorPage(w, r, e)
}

// outagePage answers 503 temporarily_unavailable with Retry-After
// (RFC 9110 §10.2.3): the store cannot be read, so whether the request is
// good cannot be told yet.
// busyPage is the 503 for a sign-in that found every password-hashing
// turn taken (accounts.ErrBusy): the attempt counts neither way.
func (b *browserFlow) busyPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", strconv.Itoa(accounts.BusyRetryAfter))
	b.pages.render(w, r, http.StatusServiceUnavailable, "error.html", pageData{Title: tr("Busy"),
		Code:    fosite.ErrTemporarilyUnavailable.ErrorField,
		Message: tr("Too many people are signing in right now. Please try again in a moment.")})
}

func (b *browserFlow) outagePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", retryAfter)
	b.pages.render(w, r, http.StatusServiceUnavailable, "error.html", pageData{Title: tr("Temporarily unavailable"),
		Code:    fosite.ErrTemporarilyUnavailable.ErrorField,
		Message: tr("Sign-in is temporarily unavailable. Please try again in a moment.")})
}
