package authz

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/store"
)

// maxReturnLen bounds a return address; it must fit, URL-encoded, in a
// request line under the server's 64 KiB header limit.
const maxReturnLen = 40 << 10

// safeReturn accepts only a return address on this server's authorization
// endpoint or device verification page, so the login page cannot be used
// as an open redirect.
func safeReturn(s string) string {
	if !(strings.HasPrefix(s, "/oauth2/auth?") || strings.HasPrefix(s, PathDevice+"?") || s == PathAccount ||
		strings.HasPrefix(s, PathAccount+"?")) ||
		strings.ContainsAny(s, "\\\r\n") || len(s) > maxReturnLen {
		return ""
	}
	return s
}

// loginPage shows the login form (GET /login), or with provider=NAME
// sends the browser to sign in at that upstream provider (upstream.go).
func (b *browserFlow) loginPage(c *gin.Context) {
	returnTo := safeReturn(c.Query("return_to"))
	if name, ok := c.GetQuery("provider"); ok {
		b.upstream.start(c, name, returnTo)
		return
	}
	b.renderLogin(c, http.StatusOK, returnTo, "", "")
}

func (b *browserFlow) renderLogin(c *gin.Context, status int, returnTo, username, msg string, args ...any) {
	csrf, err := b.csrfToken(c.Writer, c.Request, "login")
	if err != nil {
		c.Status(http.StatusInternalServerError)
		return
	}
	d := pageData{Title: tr("Sign in"), CSRF: csrf, ReturnTo: returnTo, Username: username, Error: msg, ErrorArgs: args, UILocales: uiLocales(c.Request),
		Providers: b.upstream.links(c.Request.Context(), returnTo), Passkeys: b.rp != nil}
	var targets []string
	if client := b.clientOfReturn(c, returnTo); client != nil {
		d.Client = client.Name
		targets = client.RedirectURIs
	}
	b.pages.renderScripted(c.Writer, c.Request, status, "login.html", d, targets...)
}

// clientOfReturn finds the client named in an authorization return address.
func (b *browserFlow) clientOfReturn(c *gin.Context, returnTo string) *store.Client {
	if returnTo == "" {
		return nil
	}
	u, err := url.Parse(returnTo)
	if err != nil {
		return nil
	}
	fc, err := b.clients.Get(c.Request.Context(), u.Query().Get("client_id"))
	if err != nil {
		return nil
	}
	return fc
}

// login checks the username and password (POST /login), with backoff
// after repeated failures (LoginGuard). A disabled user cannot sign in:
// the answer is the same as for a wrong password. A form over 1 MiB is
// refused before any password is hashed.
func (b *browserFlow) login(c *gin.Context) {
	ctx, r := c.Request.Context(), c.Request
	if !b.parsePageForm(c) {
		return
	}
	returnTo := safeReturn(r.PostForm.Get("return_to"))
	username := strings.TrimSpace(r.PostForm.Get("username"))
	if len(username) > 128 {
		username = username[:128]
	}
	if !b.checkCSRF(r, "login") {
		b.renderLogin(c, http.StatusForbidden, returnTo, username, tr("Your session expired. Please try again."))
		return
	}
	ip := c.ClientIP()
	// The attempt is reserved before the password is hashed, so parallel
	// guesses are counted before any of them is checked.
	attempt, wait := b.logins.Begin(username, ip)
	if wait > 0 {
		b.obs.RateLimited(LimiterLogin)
		b.obs.Login(SurfaceLoginPage, accounts.LoginLockedOut)
		secs := int(wait.Seconds()) + 1
		c.Header("Retry-After", strconv.Itoa(secs))
		b.renderLogin(c, http.StatusTooManyRequests, returnTo, username,
			tr("Too many failed attempts. Try again in %d seconds."), secs)
		return
	}
	defer attempt.Cancel()
	password := r.PostForm.Get("password")
	u, err := accounts.Authenticate(ctx, b.store, username, password)
	if errors.Is(err, accounts.ErrBusy) {
		b.busyPage(c.Writer, c.Request)
		return
	}
	if err != nil && !errors.Is(err, accounts.ErrBadCredentials) {
		b.log.Warn("login: store unavailable", "err", err)
		b.outagePage(c.Writer, c.Request)
		return
	}
	if err != nil {
		attempt.Fail()
		b.obs.Login(SurfaceLoginPage, accounts.LoginFailed)
		b.log.Info("login failed", "username_len", len(username), "remote", ip)
		b.renderLogin(c, http.StatusUnauthorized, returnTo, username, tr("Wrong username or password."))
		return
	}
	attempt.Succeed()
	b.obs.Login(SurfaceLoginPage, accounts.LoginSucceeded)
	// A user with a second factor passes it before any session starts.
	st, err := b.factorStatus(ctx, u.ID)
	if err != nil {
		b.log.Warn("login: store unavailable", "err", err)
		b.outagePage(c.Writer, c.Request)
		return
	}
	if st.HasSecondFactor() {
		b.beginSecondStep(c.Writer, r, u, []string{amrPassword}, returnTo)
		return
	}
	if err := b.finishSignIn(ctx, c.Writer, r, u, []string{amrPassword}); err != nil {
		// The session could not be stored: the database, not the person.
		b.log.Warn("login: store unavailable", "err", err)
		b.outagePage(c.Writer, c.Request)
		return
	}
	b.continueTo(c, returnTo, u)
}
