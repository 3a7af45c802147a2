package authz

import (
	"crypto/hmac"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/keyward/keyward/store"
)

// The verification page (RFC 8628 §3.3) on the public listener:
//
//  1. GET /device shows a form for the user code. With ?user_code=…
//     (verification_uri_complete) the code is filled in, but the person
//     still presses Continue: a link sent by someone else never approves
//     anything by being opened (RFC 8628 §5.4).
//  2. POST /device checks the code, behind the entry guard: each browser
//     (its CSRF cookie) at an address, and each address, has a few free
//     misses, then waits longer after each (accounts.LoginGuard, the
//     login page's policy: 5 and 20 free misses, up to 15 minutes); a
//     right code does not clear the misses. A good code redirects to
//     GET /device with a ticket, an HMAC binding the code to this
//     browser's CSRF cookie.
//  3. GET /device with a valid ticket sends a browser that is not signed
//     in to the login page, which returns there; a signed-in one sees the
//     consent page: the client's name, the scopes, and the code again, to
//     compare with the one on the device.
//  4. POST /device/consent records Allow or Deny, audited as
//     device.approved or device.denied, and the device's next poll at
//     the token endpoint gets tokens or access_denied.
//
// Every refusal is an HTML page with a 4xx status; a store failure is the
// 503 page.

// Purposes of the page's HMAC tokens (csrfMAC).
const (
	csrfDeviceEntry   = "device"
	csrfDeviceTicket  = "device-ticket"
	csrfDeviceConsent = "device-consent"
)

// Paths of the device authorization grant.
const (
	PathDeviceAuthorization = "/oauth2/device/auth"
	PathDevice              = "/device"
	PathDeviceConsent       = "/device/consent"
)

// page is GET /device: the entry form, or with a valid ticket the login
// redirect or the consent page.
func (d *deviceFlow) page(c *gin.Context) {
	r := c.Request
	typed := r.URL.Query().Get("user_code")
	code, ok := normalizeUserCode(typed)
	if ok && d.validTicket(r, code, r.URL.Query().Get("ticket")) {
		d.confirm(c, code)
		return
	}
	shown := typed
	if ok {
		shown = formatUserCode(code)
	} else if len(shown) > 32 {
		shown = ""
	}
	d.renderEntry(c, http.StatusOK, shown, "")
}

// renderEntry shows the code entry form with status and an error message.
func (d *deviceFlow) renderEntry(c *gin.Context, status int, shown, msg string, args ...any) {
	csrf, err := d.browser.csrfToken(c.Writer, c.Request, csrfDeviceEntry)
	if err != nil {
		c.Status(http.StatusInternalServerError)
		return
	}
	d.browser.pages.render(c.Writer, c.Request, status, "device.html", pageData{Title: tr("Connect a device"), CSRF: csrf,
		UserCode: shown, Error: msg, ErrorArgs: args})
}

// enter is POST /device: the person submits a user code.
func (d *deviceFlow) enter(c *gin.Context) {
	r := c.Request
	if !d.browser.parsePageForm(c) {
		return
	}
	typed := r.PostForm.Get("user_code")
	if len(typed) > 32 {
		typed = typed[:32]
	}
	if !d.browser.checkCSRF(r, csrfDeviceEntry) {
		d.renderEntry(c, http.StatusForbidden, typed, tr("Your session expired. Please try again."))
		return
	}
	attempt, wait := d.guard.Begin(d.entrySession(r), c.ClientIP())
	if wait > 0 {
		secs := int(wait.Seconds()) + 1
		c.Header("Retry-After", strconv.Itoa(secs))
		d.renderEntry(c, http.StatusTooManyRequests, typed,
			tr("Too many wrong codes. Try again in %d seconds."), secs)
		return
	}
	defer attempt.Cancel()
	code, ok := normalizeUserCode(typed)
	if !ok {
		attempt.Fail()
		d.renderEntry(c, http.StatusBadRequest, typed, tr("That is not a valid code. Check the code shown on your device."))
		return
	}
	g, err := d.store.GetDeviceGrantByUserCode(r.Context(), d.codes.userDigest(code))
	switch {
	case errors.Is(err, store.ErrNotFound):
		attempt.Fail()
		d.log.Info("device code entry failed", "remote", c.ClientIP())
		d.renderEntry(c, http.StatusBadRequest, typed, tr("That code is not valid. Check the code shown on your device."))
		return
	case err != nil:
		d.log.Warn("device code entry: store unavailable", "err", err)
		d.browser.outagePage(c.Writer, c.Request)
		return
	}
	// A right code settles nothing (the deferred Cancel): it does not
	// clear earlier misses, or codes of one's own device grants would
	// buy fresh guesses.
	if !d.open(g) {
		d.closedPage(c)
		return
	}
	ticket := d.ticket(r, code)
	http.Redirect(c.Writer, r, d.confirmPath(code, ticket), http.StatusSeeOther)
}

// entrySession is the browser an entry guard key counts: its CSRF cookie,
// which the entry form cannot be posted without.
func (d *deviceFlow) entrySession(r *http.Request) string {
	if ck, err := r.Cookie(csrfCookie); err == nil {
		return "device:" + ck.Value
	}
	return "device:"
}

// open reports whether a grant still waits for a decision.
func (d *deviceFlow) open(g *store.DeviceGrant) bool {
	return g.Status == store.DevicePending && d.now().Before(g.ExpiresAt)
}

// ticket binds a checked user code to this browser's CSRF cookie.
func (d *deviceFlow) ticket(r *http.Request, code string) string {
	ck, err := r.Cookie(csrfCookie)
	if err != nil {
		return ""
	}
	return d.browser.csrfMAC(csrfDeviceTicket, ck.Value, []string{code})
}

func (d *deviceFlow) validTicket(r *http.Request, code, ticket string) bool {
	want := d.ticket(r, code)
	return ticket != "" && want != "" && hmac.Equal([]byte(ticket), []byte(want))
}

// confirmPath is the verification page for a checked code.
func (d *deviceFlow) confirmPath(code, ticket string) string {
	return PathDevice + "?" + url.Values{"user_code": {formatUserCode(code)}, "ticket": {ticket}}.Encode()
}

// confirm sends a browser that is not signed in to the login page, and
// shows a signed-in one the consent page for the checked code.
func (d *deviceFlow) confirm(c *gin.Context, code string) {
	ctx, r := c.Request.Context(), c.Request
	who, err := d.browser.currentUser(ctx, r)
	if err != nil {
		d.log.Warn("device page: store unavailable", "err", err)
		d.browser.outagePage(c.Writer, c.Request)
		return
	}
	returnTo := d.confirmPath(code, r.URL.Query().Get("ticket"))
	if who == nil {
		http.Redirect(c.Writer, r, PathLogin+"?return_to="+url.QueryEscape(returnTo), http.StatusSeeOther)
		return
	}
	g, client, ok := d.load(c, code)
	if !ok {
		return
	}
	csrf, err := d.browser.csrfToken(c.Writer, r, csrfDeviceConsent, code)
	if err != nil {
		c.Status(http.StatusInternalServerError)
		return
	}
	d.browser.pages.renderImg(c.Writer, c.Request, http.StatusOK, "device_consent.html", pageData{
		Title: tr("Allow access?"), Client: client.Name, Username: who.user.Username, CSRF: csrf,
		UserCode: formatUserCode(code), Ticket: r.URL.Query().Get("ticket"), Scopes: describeScopes(g.Scopes),
		ClientLogo: client.LogoURI,
	}, client.LogoURI)
}

// load reads the open grant of a checked code and its enabled client, or
// answers with a page and returns false.
func (d *deviceFlow) load(c *gin.Context, code string) (*store.DeviceGrant, *store.Client, bool) {
	ctx := c.Request.Context()
	g, err := d.store.GetDeviceGrantByUserCode(ctx, d.codes.userDigest(code))
	if errors.Is(err, store.ErrNotFound) {
		d.closedPage(c)
		return nil, nil, false
	}
	if err != nil {
		d.log.Warn("device page: store unavailable", "err", err)
		d.browser.outagePage(c.Writer, c.Request)
		return nil, nil, false
	}
	if !d.open(g) {
		d.closedPage(c)
		return nil, nil, false
	}
	client, err := d.clients.Get(ctx, g.ClientID)
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && client.Disabled):
		d.closedPage(c)
		return nil, nil, false
	case err != nil:
		d.log.Warn("device page: store unavailable", "err", err)
		d.browser.outagePage(c.Writer, c.Request)
		return nil, nil, false
	}
	return g, client, true
}

// closedPage says that a real code can no longer be used.
func (d *deviceFlow) closedPage(c *gin.Context) {
	d.browser.pages.render(c.Writer, c.Request, http.StatusBadRequest, "message.html", pageData{Title: tr("Code expired"),
		Message: tr("This code has expired or was already used. Start again on your device to get a new code.")})
}

// decide is POST /device/consent: Allow or Deny for a checked code. The
// CSRF token must be the one the consent page issued for this very code.
func (d *deviceFlow) decide(c *gin.Context) {
	ctx, r := c.Request.Context(), c.Request
	if !d.browser.parsePageForm(c) {
		return
	}
	code, ok := normalizeUserCode(r.PostForm.Get("user_code"))
	if !ok || !d.browser.checkCSRF(r, csrfDeviceConsent, code) {
		d.browser.pages.render(c.Writer, c.Request, http.StatusForbidden, "message.html", pageData{Title: tr("Request expired"),
			Message: tr("This form expired. Enter the code shown on your device again.")})
		return
	}
	who, err := d.browser.currentUser(ctx, r)
	if err != nil {
		d.log.Warn("device consent: store unavailable", "err", err)
		d.browser.outagePage(c.Writer, c.Request)
		return
	}
	if who == nil {
		returnTo := d.confirmPath(code, r.PostForm.Get("ticket"))
		http.Redirect(c.Writer, r, PathLogin+"?return_to="+url.QueryEscape(returnTo), http.StatusSeeOther)
		return
	}
	var approved bool
	switch r.PostForm.Get("decision") {
	case "allow":
		approved = true
	case "deny":
	default:
		d.browser.badRequestPage(c.Writer, c.Request, http.StatusBadRequest, "decision must be allow or deny.")
		return
	}
	g, client, ok := d.load(c, code)
	if !ok {
		return
	}
	err = d.store.DecideDeviceGrant(ctx, d.codes.userDigest(code), store.DeviceDecision{Approved: approved,
		UserID: who.user.ID, AuthTime: who.session.CreatedAt, At: store.Truncate(d.now())})
	switch {
	case errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound):
		d.closedPage(c)
		return
	case err != nil:
		d.log.Warn("device consent: store unavailable", "err", err)
		d.browser.outagePage(c.Writer, c.Request)
		return
	}
	event, title, msg := "device.denied", tr("Access denied"), tr("You denied %s access. You can close this page.")
	if approved {
		event, title, msg = "device.approved", tr("Device connected"),
			tr("You allowed %s to access your account. Return to your device: it continues by itself.")
	}
	if d.auditor != nil {
		_ = d.auditor.Record(store.WithActor(ctx, "user:"+who.user.ID), event, client.ID,
			map[string]any{"scopes": g.Scopes, "address": c.ClientIP()})
	}
	d.browser.pages.render(c.Writer, c.Request, http.StatusOK, "message.html", pageData{Title: title, Message: msg, MessageArgs: []any{client.Name}})
}
