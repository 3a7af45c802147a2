package console

import (
	"bytes"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/admin/internal/errmsg"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
)

// maxConsoleForm bounds a console form body; no form needs more.
const maxConsoleForm = 64 << 10

// view is what every console template reads: the frame (title, section,
// signed-in user, messages) and the page's own data in D.
type view struct {
	Title   string
	Section string
	User    *store.User
	Issuer  string
	// Product is the product name (--product-name).
	Product string
	// CSRF returns the form token for a form posting to the given path:
	// {{call $.CSRF "/console/…"}} (a function, since templates are parsed
	// without custom funcs alongside authz's pages).
	CSRF   func(action string) string
	Notice string
	Error  string
	Errors []string
	D      any
}

// notices are the messages a redirect after an action asks for (?done=).
var notices = map[string]string{
	"rotated":        "Rotated: the next key is now active and a new next key is published.",
	"revoked":        "Revoked.",
	"deleted":        "Deleted.",
	"disabled":       "Disabled: the client's tokens stop working on every instance.",
	"enabled":        "Enabled.",
	"updated":        "Saved.",
	"created":        "Created.",
	"signed-out":     "You are signed out.",
	"signed-in":      "Welcome.",
	"user-created":   "User created.",
	"password-set":   "The new password is set.",
	"disabled-user":  "Disabled: the user's sessions and grants have ended.",
	"factors-reset":  "Second factors removed and sessions ended: the user signs in with their password and enrols again.",
	"setup-complete": "Your administrator account is ready.",
	"test-sent":      "A test event was queued for this webhook; its delivery shows in the log below.",
	"imported":       "Imported: the key is listed below; its private key is encrypted at rest and never shown.",
}

// securityHeaders are on every console answer: no script at all, no
// framing, no caching of pages that hold secrets.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; "+
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
}

// common runs before every console page: headers and a body limit.
func (cs *Server) common(c *gin.Context) {
	securityHeaders(c.Writer.Header())
	if c.Request.Body != nil {
		limit := int64(maxConsoleForm)
		if c.Request.URL.Path == keyImportPath {
			limit = maxKeyUpload
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	}
	c.Next()
}

// render writes the template name with v at status.
func (cs *Server) render(c *gin.Context, status int, name string, v *view) {
	if v.User == nil {
		v.User = currentUser(c)
	}
	v.Issuer = cs.cfg.PublicURL
	v.Product = cs.cfg.ProductName
	if v.Product == "" {
		v.Product = "Keyward"
	}
	v.CSRF = func(action string) string { return cs.csrfToken(c, action) }
	if v.Notice == "" {
		v.Notice = notices[c.Query("done")]
	}
	var buf bytes.Buffer
	if err := cs.pages.ExecuteTemplate(&buf, name, v); err != nil {
		cs.cfg.Logger.Error("console page", "page", name, "err", err)
		c.String(http.StatusInternalServerError, "page unavailable")
		c.Abort()
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
	c.Abort()
}

// message shows a page with one message: errors, and a few outcomes.
func (cs *Server) message(c *gin.Context, status int, title, msg string, details ...string) {
	cs.render(c, status, "console_message.html", &view{Title: title, Error: msg, Errors: details})
}

// see redirects after a POST (303: the browser follows with a GET).
func see(c *gin.Context, path string) {
	c.Redirect(http.StatusSeeOther, path)
	c.Abort()
}

// fail answers a domain error with a page: the console's side of the one
// error table (admin/problem.go). Client errors are never a 500, and a
// store failure is a 503 page with Retry-After.
func (cs *Server) fail(c *gin.Context, err error) {
	var ve *store.ValidationError
	var early *signing.TooEarlyError
	switch {
	case errors.Is(err, store.ErrUnavailable):
		cs.cfg.Logger.Warn("console request: store unavailable", "err", err, "path", c.Request.URL.Path)
		c.Header("Retry-After", "2")
		cs.message(c, http.StatusServiceUnavailable, "Temporarily unavailable",
			"The database cannot be reached right now. Nothing was changed; please try again in a moment.")
	case errors.As(err, &early):
		cs.message(c, http.StatusConflict, "Not rotated yet", errmsg.Readable(early))
	case errors.As(err, &ve):
		cs.message(c, http.StatusUnprocessableEntity, "Invalid request", "Please correct these fields.", ve.Problems...)
	case errors.Is(err, store.ErrInvalid):
		cs.message(c, http.StatusUnprocessableEntity, "Invalid request", errmsg.Readable(err))
	case errors.Is(err, store.ErrNotFound):
		cs.message(c, http.StatusNotFound, "Not found", "There is no such item; it may have been deleted.")
	case errors.Is(err, store.ErrConflict):
		cs.message(c, http.StatusConflict, "Conflict", "That conflicts with an existing item or its current state.")
	default:
		cs.cfg.Logger.Error("console request failed", "err", err, "path", c.Request.URL.Path)
		cs.message(c, http.StatusInternalServerError, "Something went wrong", "The server could not do that; details are in its log.")
	}
}
