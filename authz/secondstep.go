package authz

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/store"
)

// PathSecondStep is the second step of a sign-in: a TOTP code, a passkey
// or a recovery code after the password, and the step-up page when a
// client asks for more than the session has.
const PathSecondStep = "/login/mfa"

// secondStepCookie holds, between the password and the second factor,
// who passed the first step and how: a MAC'd value, never a session.
const secondStepCookie = "kw_second"

// secondStepTTL bounds the time between the password and the second factor.
const secondStepTTL = 10 * time.Minute

type pendingStep struct {
	UserID string   `json:"u"`
	AMR    []string `json:"m"`
	Exp    int64    `json:"e"`
}

// beginSecondStep remembers that u passed the first step with amr and
// sends the browser to the second step.
func (b *browserFlow) beginSecondStep(w http.ResponseWriter, r *http.Request, u *store.User, amr []string, returnTo string) {
	js, _ := json.Marshal(pendingStep{UserID: u.ID, AMR: amr, Exp: b.now().Add(secondStepTTL).Unix()})
	v := base64.RawURLEncoding.EncodeToString(js)
	b.setCookie(w, r, secondStepCookie, v+"."+b.mac(b.stepKey, "second-step", v), secondStepTTL)
	http.Redirect(w, r, secondStepURL(returnTo), http.StatusSeeOther)
}

func secondStepURL(returnTo string) string {
	if returnTo == "" {
		return PathSecondStep
	}
	return PathSecondStep + "?return_to=" + url.QueryEscape(returnTo)
}

// pending returns the first step of r's browser, if any and unexpired.
func (b *browserFlow) pending(r *http.Request) *pendingStep {
	p := b.pendingAny(r)
	if p == nil || b.now().Unix() > p.Exp {
		return nil
	}
	return p
}

// pendingAny returns the first step of r's browser, if any, even expired.
func (b *browserFlow) pendingAny(r *http.Request) *pendingStep {
	ck, err := r.Cookie(secondStepCookie)
	if err != nil || len(ck.Value) > 2048 {
		return nil
	}
	v, mac, ok := strings.Cut(ck.Value, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(b.mac(b.stepKey, "second-step", v))) {
		return nil
	}
	js, err := base64.RawURLEncoding.DecodeString(v)
	var p pendingStep
	if err != nil || json.Unmarshal(js, &p) != nil || p.UserID == "" {
		return nil
	}
	return &p
}

// stepSubject is who the second step is for: the browser's pending first
// step, else its signed-in user (a step-up), with the methods already
// passed. A nil user means neither.
func (b *browserFlow) stepSubject(ctx context.Context, r *http.Request) (*store.User, []string, error) {
	if p := b.pending(r); p != nil {
		u, err := b.store.GetUser(ctx, p.UserID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
			return nil, nil, nil
		}
		return u, p.AMR, err
	}
	who, err := b.currentUser(ctx, r)
	if err != nil || who == nil {
		return nil, nil, err
	}
	return who.user, sessionAMR(who.session), nil
}

// finishSignIn starts the browser's session for u with amr (dropping any
// pending first step) and records the sign-in.
func (b *browserFlow) finishSignIn(ctx context.Context, w http.ResponseWriter, r *http.Request, u *store.User, amr []string) error {
	if err := b.sessions.StartAMR(ctx, w, r, u, amr); err != nil {
		return err
	}
	if _, err := r.Cookie(secondStepCookie); err == nil {
		b.setCookie(w, r, secondStepCookie, "", -time.Second)
	}
	b.audit(ctx, u.ID, "user.signed_in", map[string]any{"amr": amr, "acr": acrOf(amr)})
	return nil
}

// mfaView is what the second-step page shows.
type mfaView struct {
	TOTP, Passkeys, Recovery bool
	Method                   string
}

// secondStepPage shows the second step (GET /login/mfa).
func (b *browserFlow) secondStepPage(c *gin.Context) {
	b.renderSecondStep(c, http.StatusOK, safeReturn(c.Query("return_to")), "", "")
}

func (b *browserFlow) renderSecondStep(c *gin.Context, status int, returnTo, method, msg string, args ...any) {
	ctx, r := c.Request.Context(), c.Request
	u, _, err := b.stepSubject(ctx, r)
	if err != nil {
		b.outagePage(c.Writer, c.Request)
		return
	}
	if u == nil {
		http.Redirect(c.Writer, r, PathLogin+"?return_to="+url.QueryEscape(returnTo), http.StatusSeeOther)
		return
	}
	st, err := b.factorStatus(ctx, u.ID)
	if err != nil {
		b.outagePage(c.Writer, c.Request)
		return
	}
	csrf, err := b.csrfToken(c.Writer, r, "second-step")
	if err != nil {
		c.Status(http.StatusInternalServerError)
		return
	}
	d := pageData{Title: tr("Confirm it’s you"), CSRF: csrf, ReturnTo: returnTo, Username: u.Username, Error: msg, ErrorArgs: args,
		Passkeys: b.rp != nil, MFA: &mfaView{TOTP: st.TOTP, Passkeys: b.rp != nil && len(st.Passkeys) > 0, Recovery: st.RecoveryCodes > 0, Method: method}}
	if client := b.clientOfReturn(c, returnTo); client != nil {
		d.Client = client.Name
	}
	b.pages.renderScripted(c.Writer, c.Request, status, "mfa.html", d)
}

// secondStep checks a TOTP or recovery code (POST /login/mfa), counted
// against the login guard like a password.
func (b *browserFlow) secondStep(c *gin.Context) {
	ctx, r := c.Request.Context(), c.Request
	if !b.parsePageForm(c) {
		return
	}
	returnTo := safeReturn(r.PostForm.Get("return_to"))
	method := r.PostForm.Get("method")
	if !b.checkCSRF(r, "second-step") {
		b.renderSecondStep(c, http.StatusForbidden, returnTo, method, tr("Your session expired. Please try again."))
		return
	}
	u, amr, err := b.stepSubject(ctx, r)
	if err != nil {
		b.outagePage(c.Writer, c.Request)
		return
	}
	if u == nil {
		if p := b.pendingAny(r); p != nil && b.now().Unix() > p.Exp {
			// The first step was passed, but too long ago: say so, rather
			// than show the login page without a word.
			factor := "totp"
			if method == "recovery" {
				factor = method
			}
			b.audit(ctx, p.UserID, "user.factor_failed", map[string]any{"factor": factor, "reason": "expired"})
			b.pages.render(c.Writer, c.Request, http.StatusBadRequest, "message.html", pageData{Title: tr("Sign-in took too long"),
				Message: tr("The time to enter your code ran out, so you are not signed in. Sign in again.")})
			return
		}
		http.Redirect(c.Writer, r, PathLogin+"?return_to="+url.QueryEscape(returnTo), http.StatusSeeOther)
		return
	}
	attempt, wait := b.logins.Begin("second-step:"+u.ID, c.ClientIP())
	if wait > 0 {
		b.obs.RateLimited(LimiterLogin)
		secs := int(wait.Seconds()) + 1
		c.Header("Retry-After", strconv.Itoa(secs))
		b.renderSecondStep(c, http.StatusTooManyRequests, returnTo, method,
			tr("Too many failed attempts. Try again in %d seconds."), secs)
		return
	}
	defer attempt.Cancel()
	code := strings.TrimSpace(r.PostForm.Get("code"))
	switch method {
	case "recovery":
		err = b.factors.UseRecoveryCode(ctx, u.ID, code)
	default:
		method = "totp"
		err = b.factors.VerifyTOTP(ctx, u.ID, code)
	}
	var msg string
	switch {
	case err == nil:
	case errors.Is(err, accounts.ErrCodeReused):
		msg = tr("That code was used already. Wait for the next one.")
	case errors.Is(err, accounts.ErrBadCode), errors.Is(err, accounts.ErrNoFactor):
		msg = tr("That code is not right.")
	default:
		b.log.Warn("second step: store unavailable", "err", err)
		b.outagePage(c.Writer, c.Request)
		return
	}
	if msg != "" {
		attempt.Fail()
		b.audit(ctx, u.ID, "user.factor_failed", map[string]any{"factor": method, "reason": reasonOf(err)})
		b.renderSecondStep(c, http.StatusUnauthorized, returnTo, method, msg)
		return
	}
	attempt.Succeed()
	b.audit(ctx, u.ID, "user.factor_used", map[string]any{"factor": method})
	if err := b.finishSignIn(ctx, c.Writer, r, u, withSecondFactor(amr, amrOTP)); err != nil {
		b.log.Warn("second step: store unavailable", "err", err)
		b.outagePage(c.Writer, c.Request)
		return
	}
	b.continueTo(c, returnTo, u)
}

func reasonOf(err error) string {
	switch {
	case errors.Is(err, accounts.ErrCodeReused):
		return "replayed"
	case errors.Is(err, accounts.ErrNoFactor):
		return "not_enrolled"
	default:
		return "wrong_code"
	}
}

// continueTo sends a signed-in browser on to returnTo, or says it is
// signed in.
func (b *browserFlow) continueTo(c *gin.Context, returnTo string, u *store.User) {
	if returnTo == "" {
		b.pages.render(c.Writer, c.Request, http.StatusOK, "message.html", pageData{Title: tr("Signed in"), Message: tr("You are signed in as %s."), MessageArgs: []any{u.Username}})
		return
	}
	http.Redirect(c.Writer, c.Request, returnTo, http.StatusSeeOther)
}
