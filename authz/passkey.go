package authz

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/keyward/keyward/store"
)

// Passkey endpoints: each ceremony (WebAuthn Level 3 §7) is a begin call
// answering the options for navigator.credentials and a finish call
// taking the authenticator's response, both JSON, both called by
// /static/passkey.js with the page's CSRF token in X-CSRF-Token.
const (
	PathPasskeyLogin        = "/login/passkey"     // sign in with a passkey alone
	PathPasskeySecond       = "/login/mfa/passkey" // a passkey as the second step
	PathPasskeyRegistration = "/account/passkeys/register"
)

// maxCeremonyBody bounds a ceremony's JSON body.
const maxCeremonyBody = 64 << 10

// jsonError answers a ceremony call with a message for the person.
// msg is a message key, answered in the language of Accept-Language
// (passkey.js sends the page's).
func (b *browserFlow) jsonError(c *gin.Context, status int, code, msg string) {
	c.Header("Cache-Control", "no-store")
	if b.pages != nil {
		msg = b.pages.printer(c.Request).T(msg)
	}
	c.JSON(status, gin.H{"error": code, "message": msg})
}

// checkCeremonyCSRF checks the X-CSRF-Token header of a ceremony call
// against the page's token for purpose.
func (b *browserFlow) checkCeremonyCSRF(c *gin.Context, purpose string) bool {
	r := c.Request
	ck, err := r.Cookie(csrfCookie)
	if err != nil || ck.Value == "" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		b.jsonError(c, http.StatusForbidden, "csrf", tr("Your session expired. Reload the page and try again."))
		return false
	}
	if !equalMAC(r.Header.Get("X-CSRF-Token"), b.csrfMAC(purpose, ck.Value, nil)) {
		b.jsonError(c, http.StatusForbidden, "csrf", tr("Your session expired. Reload the page and try again."))
		return false
	}
	return true
}

// readCeremonyBody reads at most maxCeremonyBody bytes.
func (b *browserFlow) readCeremonyBody(c *gin.Context) ([]byte, bool) {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(http.MaxBytesReader(c.Writer, c.Request.Body, maxCeremonyBody))
	if err != nil || n == 0 {
		b.jsonError(c, http.StatusBadRequest, "invalid_request", tr("The request could not be read."))
		return nil, false
	}
	return buf.Bytes(), true
}

// passkeyLoginBegin starts a sign-in with a discoverable credential
// (POST /login/passkey/begin): no user is named, the authenticator
// offers the passkeys it holds for this RP ID (conditional UI or a
// button).
// readAssertion reads and parses the browser's answer to a sign-in
// ceremony (navigator.credentials.get), answering 400 itself when it
// cannot.
func (b *browserFlow) readAssertion(c *gin.Context) (*protocol.ParsedCredentialAssertionData, bool) {
	body, ok := b.readCeremonyBody(c)
	if !ok {
		return nil, false
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		b.jsonError(c, http.StatusBadRequest, "invalid_request", tr("The passkey answer could not be read."))
		return nil, false
	}
	return parsed, true
}

func (b *browserFlow) passkeyLoginBegin(c *gin.Context) {
	if !b.checkCeremonyCSRF(c, "login") {
		return
	}
	opts, sess, err := b.rp.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationPreferred))
	b.startCeremony(c, opts, sess, err, &ceremony{Purpose: "login"})
}

// passkeyLoginFinish checks the assertion (POST /login/passkey/finish)
// and signs the browser in as the passkey's owner.
func (b *browserFlow) passkeyLoginFinish(c *gin.Context) {
	ctx, r := c.Request.Context(), c.Request
	if !b.checkCeremonyCSRF(c, "login") {
		return
	}
	cer, err := b.takeCeremony(c.Writer, r, "login")
	if err != nil {
		b.auditPasskeyLogin(c, "expired", nil)
		b.jsonError(c, http.StatusBadRequest, "expired", tr("The passkey request expired. Try again."))
		return
	}
	parsed, ok := b.readAssertion(c)
	if !ok {
		return
	}
	var (
		owner *store.User
		cred  *store.WebAuthnCredential
		lerr  error
	)
	_, _, err = b.rp.ValidatePasskeyLogin(func(rawID, userHandle []byte) (webauthn.User, error) {
		cred, lerr = b.store.GetWebAuthnCredential(ctx, rawID)
		if lerr != nil {
			return nil, lerr
		}
		if !bytes.Equal(userHandle, []byte(cred.UserID)) {
			return nil, errors.New("user handle does not match the credential")
		}
		if owner, lerr = b.store.GetUser(ctx, cred.UserID); lerr != nil {
			return nil, lerr
		}
		if owner.Disabled {
			return nil, errors.New("user disabled")
		}
		// Only this credential: the counter check below is its own.
		return &passkeyUser{u: owner, creds: []*store.WebAuthnCredential{cred}}, nil
	}, cer.Session, parsed)
	if lerr != nil && !errors.Is(lerr, store.ErrNotFound) {
		b.log.Warn("passkey login: store unavailable", "err", lerr)
		b.jsonError(c, http.StatusServiceUnavailable, "temporarily_unavailable", tr("Sign-in is unavailable. Try again shortly."))
		return
	}
	if err != nil || owner == nil {
		b.obs.Login(SurfaceLoginPage, "failed")
		if owner != nil {
			b.audit(ctx, owner.ID, "user.factor_failed", map[string]any{"factor": "passkey", "reason": assertionReason(err)})
		} else {
			b.auditPasskeyLogin(c, "unknown_credential", parsed.RawID)
		}
		b.jsonError(c, http.StatusUnauthorized, "passkey_refused", tr("This passkey was not accepted here."))
		return
	}
	amr, ok := b.usePasskey(c, owner, cred, parsed)
	if !ok {
		return
	}
	if err := b.finishSignIn(ctx, c.Writer, r, owner, amr); err != nil {
		b.jsonError(c, http.StatusServiceUnavailable, "temporarily_unavailable", tr("Sign-in is unavailable. Try again shortly."))
		return
	}
	b.obs.Login(SurfaceLoginPage, "succeeded")
	b.passkeyDone(c, owner, r.URL.Query().Get("return_to"))
}

// passkeyDone answers a finished sign-in with where the page goes next.
func (b *browserFlow) passkeyDone(c *gin.Context, u *store.User, returnTo string) {
	next := safeReturn(returnTo)
	if next == "" {
		next = PathAccount
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"redirect": next})
}

// usePasskey records an accepted assertion: the signature counter must
// have grown (WebAuthn §7.2 step 22: a counter that did not may mean a
// cloned authenticator, and Keyward refuses it), and is stored with a
// compare-and-set so two uses of one counter value cannot both pass. It
// answers the request itself when it refuses.
func (b *browserFlow) usePasskey(c *gin.Context, u *store.User, cred *store.WebAuthnCredential, parsed *protocol.ParsedCredentialAssertionData) ([]string, bool) {
	ctx := c.Request.Context()
	ad := parsed.Response.AuthenticatorData
	count := ad.Counter
	if (count != 0 || cred.SignCount != 0) && count <= cred.SignCount {
		b.log.Warn("passkey: signature counter did not grow (cloned authenticator?)", "user", u.ID)
		b.audit(ctx, u.ID, "user.factor_failed", map[string]any{"factor": "passkey", "reason": "clone_warning",
			"credential": cred.Name, "stored_count": cred.SignCount, "count": count})
		b.jsonError(c, http.StatusUnauthorized, "clone_warning",
			tr("This passkey was refused: its signature counter went backwards, which can mean it was copied. "+
				"Sign in another way and check your passkeys on your account page."))
		return nil, false
	}
	err := b.store.UseWebAuthnCredential(ctx, cred.ID, cred.SignCount, count, ad.Flags.HasBackupState(), b.now().UTC())
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		b.audit(ctx, u.ID, "user.factor_failed", map[string]any{"factor": "passkey", "reason": "stale_counter", "credential": cred.Name})
		b.jsonError(c, http.StatusUnauthorized, "clone_warning", tr("This passkey was just used elsewhere. Try again."))
		return nil, false
	}
	if err != nil {
		b.log.Warn("passkey: store unavailable", "err", err)
		b.jsonError(c, http.StatusServiceUnavailable, "temporarily_unavailable", tr("Sign-in is unavailable. Try again shortly."))
		return nil, false
	}
	b.audit(ctx, u.ID, "user.factor_used", map[string]any{"factor": "passkey", "credential": cred.Name})
	return passkeyAMR(cred, ad.Flags.HasUserVerified()), true
}

// passkeySecondBegin starts a passkey second step (POST
// /login/mfa/passkey/begin) for the user of the pending first step or of
// the session (step-up), allowing only that user's credentials.
func (b *browserFlow) passkeySecondBegin(c *gin.Context) {
	ctx := c.Request.Context()
	if !b.checkCeremonyCSRF(c, "second-step") {
		return
	}
	u, _, err := b.stepSubject(ctx, c.Request)
	if err != nil || u == nil {
		b.jsonError(c, http.StatusUnauthorized, "login_required", tr("Sign in again."))
		return
	}
	creds, err := b.store.ListWebAuthnCredentials(ctx, u.ID)
	if err != nil {
		b.jsonError(c, http.StatusServiceUnavailable, "temporarily_unavailable", tr("Sign-in is unavailable. Try again shortly."))
		return
	}
	if len(creds) == 0 {
		b.jsonError(c, http.StatusBadRequest, "no_passkey", tr("You have no passkey."))
		return
	}
	opts, sess, err := b.rp.BeginLogin(&passkeyUser{u: u, creds: creds}, webauthn.WithUserVerification(protocol.VerificationPreferred))
	b.startCeremony(c, opts, sess, err, &ceremony{Purpose: "second", UserID: u.ID})
}

// passkeySecondFinish checks the second-step assertion (POST
// /login/mfa/passkey/finish).
func (b *browserFlow) passkeySecondFinish(c *gin.Context) {
	ctx, r := c.Request.Context(), c.Request
	if !b.checkCeremonyCSRF(c, "second-step") {
		return
	}
	cer, cerr := b.takeCeremony(c.Writer, r, "second")
	u, amr, err := b.stepSubject(ctx, r)
	if cerr != nil {
		if err == nil && u != nil {
			b.audit(ctx, u.ID, "user.factor_failed", map[string]any{"factor": "passkey", "reason": "expired"})
		}
		b.jsonError(c, http.StatusBadRequest, "expired", tr("The passkey request expired. Try again."))
		return
	}
	if err != nil || u == nil || u.ID != cer.UserID {
		b.jsonError(c, http.StatusUnauthorized, "login_required", tr("Sign in again."))
		return
	}
	parsed, ok := b.readAssertion(c)
	if !ok {
		return
	}
	creds, err := b.store.ListWebAuthnCredentials(ctx, u.ID)
	if err != nil {
		b.jsonError(c, http.StatusServiceUnavailable, "temporarily_unavailable", tr("Sign-in is unavailable. Try again shortly."))
		return
	}
	if _, err := b.rp.ValidateLogin(&passkeyUser{u: u, creds: creds}, cer.Session, parsed); err != nil {
		b.audit(ctx, u.ID, "user.factor_failed", map[string]any{"factor": "passkey", "reason": assertionReason(err)})
		b.jsonError(c, http.StatusUnauthorized, "passkey_refused", tr("This passkey was not accepted here."))
		return
	}
	var cred *store.WebAuthnCredential
	for _, cr := range creds {
		if bytes.Equal(cr.ID, parsed.RawID) {
			cred = cr
		}
	}
	if cred == nil {
		b.jsonError(c, http.StatusUnauthorized, "passkey_refused", tr("This passkey was not accepted here."))
		return
	}
	pamr, ok := b.usePasskey(c, u, cred, parsed)
	if !ok {
		return
	}
	if err := b.finishSignIn(ctx, c.Writer, r, u, withSecondFactor(amr, pamr...)); err != nil {
		b.jsonError(c, http.StatusServiceUnavailable, "temporarily_unavailable", tr("Sign-in is unavailable. Try again shortly."))
		return
	}
	b.passkeyDone(c, u, r.URL.Query().Get("return_to"))
}

// passkeyRegisterBegin starts adding a passkey to the signed-in user's
// account (POST /account/passkeys/register/begin?name=…): a discoverable
// credential, excluding the ones the user has.
func (b *browserFlow) passkeyRegisterBegin(c *gin.Context) {
	ctx := c.Request.Context()
	if !b.checkCeremonyCSRF(c, "account") {
		return
	}
	who, err := b.currentUser(ctx, c.Request)
	if err != nil || who == nil {
		b.jsonError(c, http.StatusUnauthorized, "login_required", tr("Sign in again."))
		return
	}
	name := strings.TrimSpace(c.Query("name"))
	if name == "" {
		name = "Passkey"
	}
	if len(name) > 64 || !utf8.ValidString(name) {
		b.jsonError(c, http.StatusBadRequest, "invalid_name", tr("The name must be at most 64 characters."))
		return
	}
	creds, err := b.store.ListWebAuthnCredentials(ctx, who.user.ID)
	if err != nil {
		b.jsonError(c, http.StatusServiceUnavailable, "temporarily_unavailable", tr("Try again shortly."))
		return
	}
	pu := &passkeyUser{u: who.user, creds: creds}
	exclude := make([]protocol.CredentialDescriptor, 0, len(creds))
	for _, cr := range pu.WebAuthnCredentials() {
		exclude = append(exclude, cr.Descriptor())
	}
	opts, sess, err := b.rp.BeginRegistration(pu, webauthn.WithExclusions(exclude),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired))
	b.startCeremony(c, opts, sess, err, &ceremony{Purpose: "register", UserID: who.user.ID, Name: name})
}

// passkeyRegisterFinish verifies the new credential (POST
// /account/passkeys/register/finish) and stores it with its audit event.
func (b *browserFlow) passkeyRegisterFinish(c *gin.Context) {
	ctx, r := c.Request.Context(), c.Request
	if !b.checkCeremonyCSRF(c, "account") {
		return
	}
	cer, cerr := b.takeCeremony(c.Writer, r, "register")
	who, err := b.currentUser(ctx, r)
	if cerr != nil {
		if err == nil && who != nil {
			b.audit(ctx, who.user.ID, "user.factor_failed", map[string]any{"factor": "passkey", "reason": "expired"})
		}
		b.jsonError(c, http.StatusBadRequest, "expired", tr("The passkey request expired. Try again."))
		return
	}
	if err != nil || who == nil || who.user.ID != cer.UserID {
		b.jsonError(c, http.StatusUnauthorized, "login_required", tr("Sign in again."))
		return
	}
	body, ok := b.readCeremonyBody(c)
	if !ok {
		return
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(body)
	if err != nil {
		b.jsonError(c, http.StatusBadRequest, "invalid_request", tr("The passkey answer could not be read."))
		return
	}
	cred, err := b.rp.CreateCredential(&passkeyUser{u: who.user}, cer.Session, parsed)
	if err != nil {
		b.audit(ctx, who.user.ID, "user.factor_failed", map[string]any{"factor": "passkey", "reason": "registration_invalid"})
		b.jsonError(c, http.StatusBadRequest, "passkey_refused", tr("The passkey could not be registered."))
		return
	}
	transports := make([]string, 0, len(cred.Transport))
	for _, t := range cred.Transport {
		transports = append(transports, string(t))
	}
	sc := &store.WebAuthnCredential{ID: cred.ID, UserID: who.user.ID, Name: cer.Name, PublicKey: cred.PublicKey,
		SignCount: cred.Authenticator.SignCount, UserVerified: cred.Flags.UserVerified,
		BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState, Transports: transports,
		AAGUID: cred.Authenticator.AAGUID, AttestationType: cred.AttestationType, CreatedAt: store.Truncate(b.now())}
	err = b.atomic(ctx, func(ctx context.Context) error {
		if err := b.store.CreateWebAuthnCredential(ctx, sc); err != nil {
			return err
		}
		return b.recordFactor(ctx, who.user.ID, "user.factor_added", map[string]any{"factor": "passkey", "name": sc.Name})
	})
	if errors.Is(err, store.ErrConflict) {
		b.jsonError(c, http.StatusConflict, "exists", tr("This passkey is registered already."))
		return
	}
	if err != nil {
		b.log.Warn("passkey registration: store unavailable", "err", err)
		b.jsonError(c, http.StatusServiceUnavailable, "temporarily_unavailable", tr("Try again shortly."))
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"redirect": PathAccount + accountReturn(r.URL.Query().Get("return_to"))})
}

// startCeremony answers a ceremony's begin request: the options for the
// browser's WebAuthn call, with sess (what the finish step checks
// against) sealed into cer's cookie. err is the begin call's failure, a
// server fault (randomness, configuration).
func (b *browserFlow) startCeremony(c *gin.Context, opts any, sess *webauthn.SessionData, err error, cer *ceremony) {
	if err == nil {
		cer.Session = *sess
		err = b.saveCeremony(c.Writer, c.Request, cer)
	}
	if err != nil {
		b.jsonError(c, http.StatusInternalServerError, "server_error", tr("Passkeys are unavailable."))
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, opts)
}

// assertionReason names, for the audit log, why go-webauthn refused an
// assertion: origin_mismatch for one made for another origin (WebAuthn
// §7.2 step 13), challenge_mismatch for one of another ceremony (step
// 12), else assertion_invalid.
func assertionReason(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		d := strings.ToLower(pe.Details)
		switch {
		case strings.Contains(d, "origin"):
			return "origin_mismatch"
		case strings.Contains(d, "challenge"):
			return "challenge_mismatch"
		}
	}
	return "assertion_invalid"
}

// auditPasskeyLogin records a passkey sign-in refused before its owner
// was known (passkey.sign_in_failed, by an anonymous actor): the
// ceremony expired, or the credential is not registered here.
func (b *browserFlow) auditPasskeyLogin(c *gin.Context, reason string, credID []byte) {
	if b.auditor == nil {
		return
	}
	data := map[string]any{"reason": reason, "remote": c.ClientIP()}
	if len(credID) > 0 && len(credID) <= 1023 {
		data["credential_id"] = base64.RawURLEncoding.EncodeToString(credID)
	}
	if err := b.auditor.Record(c.Request.Context(), "passkey.sign_in_failed", "", data); err != nil {
		b.log.Warn("audit", "type", "passkey.sign_in_failed", "err", err)
	}
}
