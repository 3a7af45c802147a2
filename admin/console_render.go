package admin

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

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
	"updated":        "Saved.",
	"created":        "Created.",
	"signed-out":     "You are signed out.",
	"signed-in":      "Welcome.",
	"user-created":   "User created.",
	"setup-complete": "Your administrator account is ready.",
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
func (cs *console) common(c *gin.Context) {
	securityHeaders(c.Writer.Header())
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxConsoleForm)
	}
	c.Next()
}

// render writes the template name with v at status.
func (cs *console) render(c *gin.Context, status int, name string, v *view) {
	if v.User == nil {
		v.User = currentUser(c)
	}
	v.Issuer = cs.s.cfg.PublicURL
	v.CSRF = func(action string) string { return cs.csrfToken(c, action) }
	if v.Notice == "" {
		v.Notice = notices[c.Query("done")]
	}
	var buf bytes.Buffer
	if err := cs.pages.ExecuteTemplate(&buf, name, v); err != nil {
		cs.s.cfg.Logger.Error("console page", "page", name, "err", err)
		c.String(http.StatusInternalServerError, "page unavailable")
		c.Abort()
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
	c.Abort()
}

// message shows a page with one message: errors, and a few outcomes.
func (cs *console) message(c *gin.Context, status int, title, msg string, details ...string) {
	cs.render(c, status, "console_message.html", &view{Title: title, Error: msg, Errors: details})
}

// see redirects after a POST (303: the browser follows with a GET).
func see(c *gin.Context, path string) {
	c.Redirect(http.StatusSeeOther, path)
	c.Abort()
}

// fail answers a domain error with a page: the console's side of the one
// error table (problem.go). Client errors are never a 500.
func (cs *console) fail(c *gin.Context, err error) {
	var ve *store.ValidationError
	var early *signing.TooEarlyError
	switch {
	case errors.As(err, &early):
		cs.message(c, http.StatusConflict, "Not rotated yet", readable(early))
	case errors.As(err, &ve):
		cs.message(c, http.StatusUnprocessableEntity, "Invalid request", "Please correct these fields.", ve.Problems...)
	case errors.Is(err, store.ErrInvalid):
		cs.message(c, http.StatusUnprocessableEntity, "Invalid request", readable(err))
	case errors.Is(err, store.ErrNotFound):
		cs.message(c, http.StatusNotFound, "Not found", "There is no such item; it may have been deleted.")
	case errors.Is(err, store.ErrConflict):
		cs.message(c, http.StatusConflict, "Conflict", "That conflicts with an existing item or its current state.")
	default:
		cs.s.cfg.Logger.Error("console request failed", "err", err, "path", c.Request.URL.Path)
		cs.message(c, http.StatusInternalServerError, "Something went wrong", "The server could not do that; details are in its log.")
	}
}

// readable is an error message without the package prefix of a sentinel.
func readable(err error) string {
	msg := err.Error()
	for _, p := range []string{store.ErrInvalid.Error() + ": ", "signing: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}

// parseForm reads a POSTed form and checks its CSRF token, which is bound
// to the path it posts to; on failure it answers and returns false.
func (cs *console) parseForm(c *gin.Context) bool {
	r := c.Request
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			cs.message(c, http.StatusRequestEntityTooLarge, "Too large", "The form is too large.")
			return false
		}
		cs.message(c, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return false
	}
	for k, vs := range r.PostForm {
		if !utf8.ValidString(k) {
			cs.message(c, http.StatusBadRequest, "Bad request", "The form is not valid UTF-8.")
			return false
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				cs.message(c, http.StatusBadRequest, "Bad request", "The form is not valid UTF-8.")
				return false
			}
		}
	}
	if !cs.checkCSRF(c, r.URL.Path) {
		cs.message(c, http.StatusForbidden, "Form expired",
			"The form was not accepted: it expired or came from another site. Go back, reload the page and try again.")
		return false
	}
	return true
}

// field returns a trimmed form value, or "" and false (after answering
// 400) when it is longer than max bytes.
func (cs *console) field(c *gin.Context, name string, max int) (string, bool) {
	v := strings.TrimSpace(c.Request.PostForm.Get(name))
	if len(v) > max {
		cs.message(c, http.StatusBadRequest, "Bad request", "The field “"+name+"” is too long.")
		return "", false
	}
	return v, true
}

// when formats a time for a table, "—" for the zero time.
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// cursorParam reads ?cursor= for a list page; ok is false (after
// answering 400) for one no store would hand out.
func (cs *console) cursorParam(c *gin.Context) (string, bool) {
	cur := c.Query("cursor")
	if len(cur) > 200 || !utf8.ValidString(cur) || strings.ContainsAny(cur, "\x00\r\n") {
		cs.message(c, http.StatusBadRequest, "Bad request", "The page cursor is not valid.")
		return "", false
	}
	return cur, true
}

// validID rejects path ids no store would have issued, before any query.
func (cs *console) validID(c *gin.Context, name string) (string, bool) {
	id := c.Param(name)
	if id == "" || len(id) > 200 || !utf8.ValidString(id) || strings.ContainsAny(id, "\x00\r\n/") {
		cs.message(c, http.StatusNotFound, "Not found", "There is no such item.")
		return "", false
	}
	return id, true
}

func urlQuery(s string) string { return url.QueryEscape(s) }
func urlPath(s string) string  { return url.PathEscape(s) }
