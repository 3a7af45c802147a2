package console

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/store"
)

const consoleUserKey = "console.user"

// currentUser is the signed-in admin of a console request, or nil.
func currentUser(c *gin.Context) *store.User {
	if v, ok := c.Get(consoleUserKey); ok {
		return v.(*store.User)
	}
	return nil
}

// requireUser lets only a signed-in admin user through: anyone else is
// sent to the sign-in page (303). Actions are audited as that user.
func (cs *Server) requireUser(c *gin.Context) {
	ctx := c.Request.Context()
	u, err := cs.cfg.Sessions.AdminUser(ctx, c.Request)
	if err != nil {
		cs.fail(c, err)
		return
	}
	if u == nil {
		see(c, "/console/login")
		return
	}
	c.Set(consoleUserKey, u)
	c.Request = c.Request.WithContext(store.WithActor(ctx, "user:"+u.ID))
	c.Next()
}

type setupData struct {
	Token, Username string
}

// setupOK checks the one-time setup token and that no admin exists yet;
// otherwise it answers 403.
func (cs *Server) setupOK(c *gin.Context, token string) bool {
	n, err := cs.cfg.Store.CountAdmins(c.Request.Context())
	if err != nil {
		cs.fail(c, err)
		return false
	}
	if n > 0 {
		cs.message(c, http.StatusForbidden, "Setup is done",
			"An administrator already exists. Sign in at /console/login instead.")
		return false
	}
	if len(token) > 100 || !cs.useSetupToken(token, false) {
		cs.message(c, http.StatusForbidden, "Invalid setup link",
			"This setup link is not valid: it was already used, or the server restarted since it was printed. "+
				"Each start of keyward serve prints a new link while no administrator exists.")
		return false
	}
	return true
}

// setupPage shows the form that creates the first admin user
// (GET /console/setup?token=…).
func (cs *Server) setupPage(c *gin.Context) {
	tok := c.Query("token")
	if !cs.setupOK(c, tok) {
		return
	}
	cs.render(c, http.StatusOK, "console_setup.html", &view{Title: "Set up Keyward", D: setupData{Token: tok}})
}

// setup creates the first admin user, uses up the token and signs the
// browser in (POST /console/setup).
func (cs *Server) setup(c *gin.Context) {
	if !cs.parseForm(c) {
		return
	}
	ctx, f := c.Request.Context(), c.Request.PostForm
	tok := f.Get("token")
	cs.setupMu.Lock()
	defer cs.setupMu.Unlock()
	if !cs.setupOK(c, tok) {
		return
	}
	d := setupData{Token: tok, Username: strings.TrimSpace(f.Get("username"))}
	if len(d.Username) > 128 {
		d.Username = ""
	}
	again := func(status int, msgs ...string) {
		cs.render(c, status, "console_setup.html", &view{Title: "Set up Keyward", D: d,
			Error: "The account was not created.", Errors: msgs})
	}
	if f.Get("password") != f.Get("confirm") {
		again(http.StatusUnprocessableEntity, "The two passwords differ.")
		return
	}
	u, err := cs.cfg.Users.Create(ctx, accounts.UserParams{Username: f.Get("username"), Password: f.Get("password"), Admin: true})
	var ve *store.ValidationError
	switch {
	case errors.As(err, &ve):
		again(http.StatusUnprocessableEntity, ve.Problems...)
		return
	case errors.Is(err, store.ErrConflict):
		again(http.StatusConflict, "That username is taken.")
		return
	case err != nil:
		cs.fail(c, err)
		return
	}
	cs.useSetupToken(tok, true)
	cs.audit(store.WithActor(ctx, "user:"+u.ID), "console.setup", u.ID, map[string]any{"username": u.Username})
	if err := cs.cfg.Sessions.Start(ctx, c.Writer, c.Request, u); err != nil {
		cs.fail(c, err)
		return
	}
	see(c, "/console/?done=setup-complete")
}

type loginData struct{ Username string }

// loginPage shows the sign-in form (GET /console/login).
func (cs *Server) loginPage(c *gin.Context) {
	if u, err := cs.cfg.Sessions.AdminUser(c.Request.Context(), c.Request); err == nil && u != nil {
		see(c, "/console/")
		return
	}
	cs.render(c, http.StatusOK, "console_login.html", &view{Title: "Sign in to the console"})
}

// login signs an admin user in (POST /console/login). A wrong password, an
// unknown username and a user who is no admin get the same answer, in the
// same time; repeated failures back off (accounts.LoginGuard). A form
// over the console's cap is refused before any password is hashed.
func (cs *Server) login(c *gin.Context) {
	ctx, r := c.Request.Context(), c.Request
	if !cs.readForm(c) {
		return
	}
	username := strings.TrimSpace(r.PostForm.Get("username"))
	if len(username) > 128 {
		username = username[:128]
	}
	again := func(status int, msg string) {
		cs.render(c, status, "console_login.html", &view{Title: "Sign in to the console", Error: msg,
			D: loginData{Username: strings.ToValidUTF8(username, "")}})
	}
	if !cs.checkCSRF(c, r.URL.Path) {
		again(http.StatusForbidden, "The sign-in form expired. Please try again.")
		return
	}
	ip := c.ClientIP()
	attempt, wait := cs.guard.Begin(username, ip)
	if wait > 0 {
		cs.observeLogin(accounts.LoginLockedOut)
		secs := int(wait.Seconds()) + 1
		c.Header("Retry-After", strconv.Itoa(secs))
		again(http.StatusTooManyRequests, "Too many failed attempts. Try again in "+strconv.Itoa(secs)+" seconds.")
		return
	}
	defer attempt.Cancel()
	u, err := accounts.Authenticate(ctx, cs.cfg.Store, username, r.PostForm.Get("password"))
	if errors.Is(err, accounts.ErrBusy) {
		c.Header("Retry-After", strconv.Itoa(accounts.BusyRetryAfter))
		again(http.StatusServiceUnavailable, "Too many sign-ins at once. Try again in a moment.")
		return
	}
	if err != nil && !errors.Is(err, accounts.ErrBadCredentials) {
		cs.fail(c, err)
		return
	}
	if err != nil || !u.Admin {
		attempt.Fail()
		cs.observeLogin(accounts.LoginFailed)
		cs.cfg.Logger.Info("console sign-in failed", "username_len", len(username), "remote", ip)
		again(http.StatusUnauthorized, "Wrong username or password.")
		return
	}
	attempt.Succeed()
	cs.observeLogin(accounts.LoginSucceeded)
	if err := cs.cfg.Sessions.Start(ctx, c.Writer, r, u); err != nil {
		cs.fail(c, err)
		return
	}
	cs.audit(store.WithActor(ctx, "user:"+u.ID), "console.signed_in", u.ID, nil)
	see(c, "/console/")
}

// observeLogin tells the Logins observer, if any, of a sign-in's outcome.
func (cs *Server) observeLogin(outcome string) {
	if cs.cfg.Logins != nil {
		cs.cfg.Logins.Login("console", outcome)
	}
}

// logout ends the console session (POST /console/logout).
func (cs *Server) logout(c *gin.Context) {
	if !cs.parseForm(c) {
		return
	}
	cs.cfg.Sessions.End(c.Request.Context(), c.Writer, c.Request)
	see(c, "/console/login?done=signed-out")
}

// audit records an event the services do not record themselves.
func (cs *Server) audit(ctx context.Context, typ, subject string, data map[string]any) {
	if cs.cfg.Auditor != nil {
		_ = cs.cfg.Auditor.Record(ctx, typ, subject, data)
	}
}
