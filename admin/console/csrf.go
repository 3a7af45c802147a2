package console

import (
	"crypto/hmac"
	"net/http"

	"github.com/gin-gonic/gin"
)

// consoleCSRFCookie holds the browser's random CSRF binding: the console's
// own, apart from the login page's, since cookies do not tell ports apart.
const consoleCSRFCookie = "kw_console_csrf"

// csrfBinding returns the browser's CSRF binding, setting a new cookie
// (once per request) when it has none.
func (cs *Server) csrfBinding(c *gin.Context) string {
	if v, ok := c.Get(consoleCSRFCookie); ok {
		return v.(string)
	}
	if ck, err := c.Request.Cookie(consoleCSRFCookie); err == nil && len(ck.Value) >= 22 && len(ck.Value) <= 64 {
		c.Set(consoleCSRFCookie, ck.Value)
		return ck.Value
	}
	v := randomToken(18)
	http.SetCookie(c.Writer, &http.Cookie{Name: consoleCSRFCookie, Value: v, Path: "/console/", HttpOnly: true,
		Secure: cs.cfg.Sessions.secure(c.Request), SameSite: http.SameSiteStrictMode, MaxAge: int(cs.cfg.Sessions.ttl.Seconds())})
	c.Set(consoleCSRFCookie, v)
	return v
}

// csrfToken returns the token of a form that posts to action: an HMAC of
// the browser's binding and the form's purpose (its path), so a token
// neither works in another browser nor for another action, and nothing is
// stored on the server (OWASP CSRF Cheat Sheet, signed double-submit).
func (cs *Server) csrfToken(c *gin.Context, action string) string {
	return mac(cs.csrfKey, "console-csrf", action, cs.csrfBinding(c))
}

// checkCSRF reports whether the posted csrf_token is the one for action.
func (cs *Server) checkCSRF(c *gin.Context, action string) bool {
	ck, err := c.Request.Cookie(consoleCSRFCookie)
	if err != nil || len(ck.Value) < 22 || len(ck.Value) > 64 {
		return false
	}
	want := mac(cs.csrfKey, "console-csrf", action, ck.Value)
	return hmac.Equal([]byte(c.Request.PostForm.Get("csrf_token")), []byte(want))
}
