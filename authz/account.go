package authz

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/store"
)

// PathAccount is the signed-in user's account page: second factors and
// passkeys (this file and account_*.go), the password, browser sessions
// and consented applications (account_self.go).
const PathAccount = "/account"

// accountView is what account.html shows.
type accountView struct {
	Username string
	Status   *accounts.Status
	Passkeys []passkeyRow
	// Enrolment is a TOTP enrolment awaiting its code: the secret for
	// manual entry and the QR code of its otpauth URI.
	Enrolment *accounts.Enrolment
	QR        *qrView
	// RecoveryCodes are shown once, right after they were made.
	RecoveryCodes []string
	// EnrolPrompt: the application the user came from requires a second
	// factor (ReturnTo goes back there).
	EnrolPrompt bool
	Methods     string
	// Sessions and Apps are the signed-in browsers and the applications
	// consented to (account_self.go); PasswordErrors the password form's
	// problems, by field name.
	Sessions       []sessionRow
	Apps           []appRow
	PasswordErrors map[string]string
	// NoPassword: the user signs in through an upstream provider only.
	NoPassword bool
}

type passkeyRow struct {
	ID, Name, Created, LastUsed string
	Synced                      bool
}

// accountReturn is the query that carries a safe return_to on.
func accountReturn(returnTo string) string {
	if rt := safeReturn(returnTo); rt != "" && !strings.HasPrefix(rt, PathAccount) {
		return "?return_to=" + url.QueryEscape(rt)
	}
	return ""
}

// accountUser returns the signed-in user, or sends the browser to sign in
// and returns nil.
func (b *browserFlow) accountUser(c *gin.Context) *signedIn {
	who, err := b.currentUser(c.Request.Context(), c.Request)
	if err != nil {
		b.outagePage(c.Writer, c.Request)
		return nil
	}
	if who == nil {
		http.Redirect(c.Writer, c.Request, PathLogin+"?return_to="+url.QueryEscape(PathAccount), http.StatusSeeOther)
		return nil
	}
	return who
}

// accountPage shows the account page (GET /account).
func (b *browserFlow) accountPage(c *gin.Context) {
	who := b.accountUser(c)
	if who == nil {
		return
	}
	b.renderAccount(c, http.StatusOK, who, &accountView{}, c.Query("return_to"), "", "")
}

// msg and errMsg are message keys; args are msg's arguments.
func (b *browserFlow) renderAccount(c *gin.Context, status int, who *signedIn, v *accountView, returnTo, msg, errMsg string, args ...any) {
	ctx := c.Request.Context()
	st, err := b.factorStatus(ctx, who.user.ID)
	if err != nil {
		b.outagePage(c.Writer, c.Request)
		return
	}
	if v.Enrolment == nil && !st.TOTP {
		if en, err := b.factors.PendingTOTP(ctx, who.user); err == nil {
			v.Enrolment = en
		}
	}
	if v.Enrolment != nil {
		v.QR = qrOf(v.Enrolment.URL)
	}
	if err := b.accountLists(ctx, who, v); err != nil {
		b.outagePage(c.Writer, c.Request)
		return
	}
	v.Username, v.Status, v.NoPassword = who.user.Username, st, who.user.PasswordHash == ""
	v.Methods = strings.Join(sessionAMR(who.session), " ")
	for _, p := range st.Passkeys {
		row := passkeyRow{ID: base64.RawURLEncoding.EncodeToString(p.ID), Name: p.Name,
			Created: p.CreatedAt.Format("2006-01-02 15:04 MST"), Synced: p.BackupEligible}
		if !p.LastUsedAt.IsZero() {
			row.LastUsed = p.LastUsedAt.Format("2006-01-02 15:04 MST")
		}
		v.Passkeys = append(v.Passkeys, row)
	}
	rt := safeReturn(returnTo)
	v.EnrolPrompt = rt != "" && !st.HasSecondFactor()
	csrf, err := b.csrfToken(c.Writer, c.Request, "account")
	if err != nil {
		c.Status(http.StatusInternalServerError)
		return
	}
	b.pages.renderScripted(c.Writer, c.Request, status, "account.html", pageData{Title: tr("Your account"), CSRF: csrf,
		ReturnTo: rt, Message: msg, MessageArgs: args, Error: errMsg, Account: v, Passkeys: b.rp != nil})
}

// accountPost parses and checks an account form; nil when it answered.
func (b *browserFlow) accountPost(c *gin.Context) *signedIn {
	if !b.parsePageForm(c) {
		return nil
	}
	who := b.accountUser(c)
	if who == nil {
		return nil
	}
	if !b.checkCSRF(c.Request, "account") {
		b.renderAccount(c, http.StatusForbidden, who, &accountView{}, c.Request.PostForm.Get("return_to"), "",
			tr("Your session expired. Please try again."))
		return nil
	}
	return who
}

// totpBegin starts a TOTP enrolment (POST /account/totp).
func (b *browserFlow) totpBegin(c *gin.Context) {
	who := b.accountPost(c)
	if who == nil {
		return
	}
	returnTo := c.Request.PostForm.Get("return_to")
	en, err := b.factors.BeginTOTP(c.Request.Context(), who.user)
	if errors.Is(err, accounts.ErrEnrolled) {
		b.renderAccount(c, http.StatusConflict, who, &accountView{}, returnTo, "", tr("An authenticator app is set up already; remove it first."))
		return
	}
	if err != nil {
		b.log.Warn("totp enrolment", "err", err)
		b.outagePage(c.Writer, c.Request)
		return
	}
	b.renderAccount(c, http.StatusOK, who, &accountView{Enrolment: en}, returnTo, "", "")
}

// totpConfirm takes the first code of an enrolment (POST
// /account/totp/confirm), makes recovery codes when the user has none,
// and shows them once. The session now counts both factors: the person
// signed in and just proved the authenticator is theirs.
func (b *browserFlow) totpConfirm(c *gin.Context) {
	ctx, r := c.Request.Context(), c.Request
	who := b.accountPost(c)
	if who == nil {
		return
	}
	returnTo := r.PostForm.Get("return_to")
	attempt, wait := b.logins.Begin("second-step:"+who.user.ID, c.ClientIP())
	if wait > 0 {
		b.renderAccount(c, http.StatusTooManyRequests, who, &accountView{}, returnTo, "", tr("Too many failed attempts. Try again later."))
		return
	}
	defer attempt.Cancel()
	err := b.atomic(ctx, func(ctx context.Context) error {
		if err := b.factors.ConfirmTOTP(ctx, who.user.ID, r.PostForm.Get("code")); err != nil {
			return err
		}
		return b.recordFactor(ctx, who.user.ID, "user.factor_added", map[string]any{"factor": "totp"})
	})
	switch {
	case errors.Is(err, accounts.ErrBadCode), errors.Is(err, accounts.ErrCodeReused), errors.Is(err, accounts.ErrNoFactor):
		attempt.Fail()
		b.audit(ctx, who.user.ID, "user.factor_failed", map[string]any{"factor": "totp", "reason": reasonOf(err)})
		b.renderAccount(c, http.StatusUnauthorized, who, &accountView{}, returnTo, "", tr("That code is not right. Try the next one."))
		return
	case err != nil:
		b.log.Warn("totp confirmation", "err", err)
		b.outagePage(c.Writer, c.Request)
		return
	}
	attempt.Succeed()
	v := &accountView{}
	if n, err := b.store.CountRecoveryCodes(ctx, who.user.ID); err == nil && n == 0 {
		if v.RecoveryCodes, err = b.factors.NewRecoveryCodes(ctx, who.user.ID); err != nil {
			b.outagePage(c.Writer, c.Request)
			return
		}
	}
	amr := withSecondFactor(sessionAMR(who.session), amrOTP)
	if err := b.sessions.StartAMR(ctx, c.Writer, r, who.user, amr); err != nil {
		b.outagePage(c.Writer, c.Request)
		return
	}
	who.session = &store.BrowserSession{UserID: who.user.ID, AMR: amr, CreatedAt: b.now()}
	b.renderAccount(c, http.StatusOK, who, v, returnTo, tr("Your authenticator app is set up."), "")
}

// totpRemove removes the authenticator (POST /account/totp/remove).
func (b *browserFlow) totpRemove(c *gin.Context) {
	ctx := c.Request.Context()
	who := b.accountPost(c)
	if who == nil {
		return
	}
	err := b.atomic(ctx, func(ctx context.Context) error {
		if err := b.factors.RemoveTOTP(ctx, who.user.ID); err != nil {
			return err
		}
		return b.recordFactor(ctx, who.user.ID, "user.factor_removed", map[string]any{"factor": "totp"})
	})
	if err != nil && !errors.Is(err, accounts.ErrNoFactor) {
		b.outagePage(c.Writer, c.Request)
		return
	}
	b.renderAccount(c, http.StatusOK, who, &accountView{}, "", tr("The authenticator app was removed."), "")
}

// recoveryRenew replaces the recovery codes (POST /account/recovery).
func (b *browserFlow) recoveryRenew(c *gin.Context) {
	ctx := c.Request.Context()
	who := b.accountPost(c)
	if who == nil {
		return
	}
	var codes []string
	err := b.atomic(ctx, func(ctx context.Context) error {
		var err error
		if codes, err = b.factors.NewRecoveryCodes(ctx, who.user.ID); err != nil {
			return err
		}
		return b.recordFactor(ctx, who.user.ID, "user.factor_added", map[string]any{"factor": "recovery_codes"})
	})
	if err != nil {
		b.outagePage(c.Writer, c.Request)
		return
	}
	b.renderAccount(c, http.StatusOK, who, &accountView{RecoveryCodes: codes}, "", tr("New recovery codes were made; the old ones no longer work."), "")
}

// passkeyRemove removes one of the user's passkeys (POST
// /account/passkeys/remove).
func (b *browserFlow) passkeyRemove(c *gin.Context) {
	ctx := c.Request.Context()
	who := b.accountPost(c)
	if who == nil {
		return
	}
	id, err := base64.RawURLEncoding.DecodeString(c.Request.PostForm.Get("id"))
	if err != nil {
		b.renderAccount(c, http.StatusBadRequest, who, &accountView{}, "", "", tr("No such passkey."))
		return
	}
	err = b.atomic(ctx, func(ctx context.Context) error {
		if err := b.store.DeleteWebAuthnCredential(ctx, who.user.ID, id); err != nil {
			return err
		}
		return b.recordFactor(ctx, who.user.ID, "user.factor_removed", map[string]any{"factor": "passkey",
			"credential_id": c.Request.PostForm.Get("id")})
	})
	if errors.Is(err, store.ErrNotFound) {
		b.renderAccount(c, http.StatusNotFound, who, &accountView{}, "", "", tr("No such passkey."))
		return
	}
	if err != nil {
		b.outagePage(c.Writer, c.Request)
		return
	}
	b.renderAccount(c, http.StatusOK, who, &accountView{}, "", tr("The passkey was removed."), "")
}

// atomic runs fn in one transaction with the audit events it records.
func (b *browserFlow) atomic(ctx context.Context, fn func(ctx context.Context) error) error {
	if b.auditor == nil {
		return fn(ctx)
	}
	return b.auditor.Atomic(ctx, fn)
}

// recordFactor records a factor change as the user, inside atomic.
func (b *browserFlow) recordFactor(ctx context.Context, userID, typ string, data map[string]any) error {
	if b.auditor == nil {
		return nil
	}
	return b.auditor.Record(store.WithActor(ctx, "user:"+userID), typ, userID, data)
}
