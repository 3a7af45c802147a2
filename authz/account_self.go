package authz

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

// The account page's self-service sections beside the factors: the
// password, the signed-in browsers and the applications the user let in.

// sessionRow is one signed-in browser on the account page.
type sessionRow struct {
	// SID is the session's sid (SessionSID), the handle a form posts back:
	// never the stored id, which is a digest of the cookie.
	SID, Created, Expires, Methods, Browser string
	This                                    bool
}

// appRow is one application the user consented to.
type appRow struct {
	ClientID, Name, Scopes, Granted string
}

const accountTime = "2006-01-02 15:04 MST"

// accountLists fills v's sessions and applications.
func (b *browserFlow) accountLists(ctx context.Context, who *signedIn, v *accountView) error {
	ss, err := b.store.ListUserBrowserSessions(ctx, who.user.ID, b.now())
	if err != nil {
		return err
	}
	for _, s := range ss {
		row := sessionRow{SID: SessionSID(s.ID), Created: s.CreatedAt.Format(accountTime),
			Expires: s.ExpiresAt.Format(accountTime), Methods: strings.Join(sessionAMR(s), " "),
			Browser: s.UserAgent, This: who.session != nil && s.ID == who.session.ID}
		if row.Browser == "" {
			row.Browser = "unknown browser"
		}
		v.Sessions = append(v.Sessions, row)
	}
	cs, err := b.store.ListConsents(ctx, who.user.ID)
	if err != nil {
		return err
	}
	for _, c := range cs {
		row := appRow{ClientID: c.ClientID, Name: c.ClientID, Scopes: strings.Join(c.Scopes, " "),
			Granted: c.UpdatedAt.Format(accountTime)}
		cl, err := b.store.GetClient(ctx, c.ClientID)
		switch {
		case err == nil && cl.Name != "":
			row.Name = cl.Name
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return err
		}
		v.Apps = append(v.Apps, row)
	}
	return nil
}

// passwordChange changes the signed-in user's password (POST
// /account/password). The current password is required and checked
// under the login guard, on the same key as the login form, so this form
// is no faster a way to guess it. The new one follows the policy of a new
// user's. On success every other browser session of the user ends (with
// back-channel logouts), and user.password_changed is recorded with it.
func (b *browserFlow) passwordChange(c *gin.Context) {
	ctx, r := c.Request.Context(), c.Request
	who := b.accountPost(c)
	if who == nil {
		return
	}
	if who.user.PasswordHash == "" {
		b.renderAccount(c, http.StatusConflict, who, &accountView{}, "", "",
			tr("Your account has no password: you sign in through a sign-in provider."))
		return
	}
	current, next, confirm := r.PostForm.Get("current_password"), r.PostForm.Get("new_password"), r.PostForm.Get("new_password_confirm")
	fields := map[string]string{}
	if len(next) < accounts.MinPasswordLen || len(next) > accounts.MaxPasswordLen {
		fields["new_password"] = tr("Choose a password of %d to %d bytes.") // localize formats it
	} else if next != confirm {
		fields["new_password_confirm"] = tr("The two new passwords differ.")
	}
	if current == "" {
		fields["current_password"] = tr("Enter your current password.")
	}
	if len(fields) > 0 {
		b.renderAccount(c, http.StatusUnprocessableEntity, who, &accountView{PasswordErrors: fields}, "", "",
			tr("Your password was not changed."))
		return
	}
	attempt, wait := b.logins.Begin(who.user.Username, c.ClientIP())
	if wait > 0 {
		b.obs.RateLimited(LimiterLogin)
		c.Header("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		b.renderAccount(c, http.StatusTooManyRequests, who, &accountView{}, "", "",
			tr("Too many failed attempts. Try again later."))
		return
	}
	defer attempt.Cancel()
	ok, err := accounts.CheckPasswordContext(ctx, who.user.PasswordHash, current)
	if errors.Is(err, accounts.ErrBusy) {
		b.busyPage(c.Writer, c.Request)
		return
	}
	if !ok {
		attempt.Fail()
		b.audit(ctx, who.user.ID, "user.password_change_failed", map[string]any{"reason": "wrong_password"})
		b.renderAccount(c, http.StatusUnauthorized, who, &accountView{PasswordErrors: map[string]string{
			"current_password": tr("That is not your current password.")}}, "", "", tr("Your password was not changed."))
		return
	}
	attempt.Succeed()
	hash, err := accounts.HashPasswordContext(ctx, next)
	if errors.Is(err, accounts.ErrBusy) {
		b.busyPage(c.Writer, c.Request)
		return
	}
	if err != nil {
		b.outagePage(c.Writer, c.Request)
		return
	}
	var ended int
	err = b.atomic(ctx, func(ctx context.Context) error {
		u, err := b.store.GetUser(ctx, who.user.ID)
		if err != nil {
			return err
		}
		u.PasswordHash = hash
		if err := b.store.UpdateUser(ctx, u); err != nil {
			return err
		}
		if ended, err = b.endOtherSessions(ctx, who); err != nil {
			return err
		}
		return b.recordFactor(ctx, who.user.ID, "user.password_changed", map[string]any{"by": "self", "sessions_ended": ended})
	})
	if err != nil {
		b.log.Warn("password change", "err", err)
		b.outagePage(c.Writer, c.Request)
		return
	}
	msg := tr("Your password was changed.")
	switch {
	case ended == 1:
		msg = tr("Your password was changed. 1 other session was signed out.")
	case ended > 1:
		msg = tr("Your password was changed. %d other sessions were signed out.")
	}
	b.renderAccount(c, http.StatusOK, who, &accountView{}, "", msg, "", ended)
}

// endOtherSessions ends every unexpired browser session of who but the
// current one, each as a sign-out (backchannel.sessionEnded), and
// returns how many it ended.
func (b *browserFlow) endOtherSessions(ctx context.Context, who *signedIn) (int, error) {
	ss, err := b.store.ListUserBrowserSessions(ctx, who.user.ID, b.now())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range ss {
		if s.ID == who.session.ID {
			continue
		}
		if _, err := b.backchannel.sessionEnded(ctx, b.pushed, who.user.ID, s.ID); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// sessionEnd ends one of the user's other browser sessions, named by its
// sid, or with sid "others" all of them (POST /account/sessions/end).
// Ending this browser's own session is signing out, at /logout.
func (b *browserFlow) sessionEnd(c *gin.Context) {
	ctx := c.Request.Context()
	who := b.accountPost(c)
	if who == nil {
		return
	}
	sid := c.Request.PostForm.Get("sid")
	var ended int
	err := b.atomic(ctx, func(ctx context.Context) error {
		if sid == "others" {
			var err error
			if ended, err = b.endOtherSessions(ctx, who); err != nil {
				return err
			}
			return b.recordFactor(ctx, who.user.ID, "user.sessions_ended", map[string]any{"by": "self", "count": ended})
		}
		ss, err := b.store.ListUserBrowserSessions(ctx, who.user.ID, b.now())
		if err != nil {
			return err
		}
		for _, s := range ss {
			if s.ID == who.session.ID || SessionSID(s.ID) != sid {
				continue
			}
			if _, err := b.backchannel.sessionEnded(ctx, b.pushed, who.user.ID, s.ID); err != nil {
				return err
			}
			ended = 1
			return b.recordFactor(ctx, who.user.ID, "user.sessions_ended", map[string]any{"by": "self", "count": 1, "sid": sid})
		}
		return store.ErrNotFound
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		b.renderAccount(c, http.StatusNotFound, who, &accountView{}, "", "", tr("No such session: it may have ended already."))
	case err != nil:
		b.log.Warn("end session", "err", err)
		b.outagePage(c.Writer, c.Request)
	case ended == 0:
		b.renderAccount(c, http.StatusOK, who, &accountView{}, "", tr("There were no other sessions."), "")
	default:
		b.renderAccount(c, http.StatusOK, who, &accountView{}, "", sessionsSignedOut(ended), "", ended)
	}
}

// consentRevoke withdraws the user's consent to a client (POST
// /account/apps/revoke): the consent is deleted and so is every grant the
// user gave that client, its refresh tokens and access tokens with it
// (revokeClientGrants), in one transaction with user.consent_revoked.
func (b *browserFlow) consentRevoke(c *gin.Context) {
	ctx := c.Request.Context()
	who := b.accountPost(c)
	if who == nil {
		return
	}
	clientID := c.Request.PostForm.Get("client_id")
	err := b.atomic(ctx, func(ctx context.Context) error {
		if err := b.store.DeleteConsent(ctx, who.user.ID, clientID); err != nil {
			return err
		}
		n, err := b.revokeClientGrants(ctx, who.user.ID, clientID)
		if err != nil {
			return err
		}
		return b.recordFactor(ctx, who.user.ID, "user.consent_revoked", map[string]any{"by": "self",
			"client_id": clientID, "grants_revoked": n})
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		b.renderAccount(c, http.StatusNotFound, who, &accountView{}, "", "", tr("No such application."))
	case err != nil:
		b.log.Warn("revoke consent", "err", err)
		b.outagePage(c.Writer, c.Request)
	default:
		b.renderAccount(c, http.StatusOK, who, &accountView{}, "", tr("The application's access was revoked."), "")
	}
}

// revokeClientGrants ends every grant userID gave clientID, as RevokeUser
// does for all of a user's grants: the JWT access token's jti joins the
// revocation list and every record of the grant is deleted. It returns
// how many grants it ended.
func (b *browserFlow) revokeClientGrants(ctx context.Context, userID, clientID string) (int, error) {
	grants, err := b.store.SubjectRequests(ctx, userID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range grants {
		ofClient := false
		for _, kind := range []store.TokenKind{store.KindRefreshToken, store.KindAccessToken, store.KindAuthorizeCode, store.KindOIDC} {
			recs, err := b.store.ListRequest(ctx, kind, id)
			if err != nil {
				return n, err
			}
			if len(recs) > 0 {
				ofClient = recs[0].ClientID == clientID
				break
			}
		}
		if !ofClient {
			continue
		}
		if err := b.pushed.RevokeAccessToken(ctx, id); err != nil {
			return n, err
		}
		if err := b.pushed.tokens.DeleteRequest(ctx, id); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// sessionsSignedOut is the message key of n ended sessions (its
// argument is n).
func sessionsSignedOut(n int) string {
	if n == 1 {
		return tr("1 session was signed out.")
	}
	return tr("%d sessions were signed out.")
}
