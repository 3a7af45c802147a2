package authz

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/ory/fosite"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/store"
)

// Authentication methods (RFC 8176 §2) a sign-in records in its session
// and its ID tokens' amr claim.
const (
	amrPassword = "pwd"  // the password
	amrOTP      = "otp"  // a TOTP code (RFC 6238) or a one-time recovery code
	amrHardware = "hwk"  // a passkey bound to its device (backup ineligible)
	amrSoftware = "swk"  // a synced passkey (backup eligible)
	amrUser     = "user" // the authenticator verified its user (WebAuthn UV)
	amrMFA      = "mfa"  // two factors (or a passkey with user verification)
)

// Authentication context classes (OIDC Core §2 acr), advertised in
// acr_values_supported: acrPassword for one factor, acrMFA for two (a
// password and a TOTP code, recovery code or passkey; or a passkey whose
// authenticator verified its user, possession plus a PIN or biometric).
// The numeric aliases "1" and "2" are accepted in acr_values.
const (
	ACRPassword = "urn:keyward:acr:pwd"
	ACRMFA      = "urn:keyward:acr:mfa"
)

// MFA policies of the deployment (Config.MFA) and of a client
// (store.Client.MFA).
const (
	MFAOptional = "optional"
	MFARequired = "required"
)

// acrOf is the class a session's methods reach.
func acrOf(amr []string) string {
	if slices.Contains(amr, amrMFA) {
		return ACRMFA
	}
	return ACRPassword
}

// sessionAMR is the methods of a browser session; a session from before
// they were recorded was made with a password. A session from an
// upstream provider has the upstream's registered methods, perhaps none
// (upstreamAMR): then the ID token has no amr claim.
func sessionAMR(bs *store.BrowserSession) []string {
	if len(bs.AMR) == 0 {
		return []string{amrPassword}
	}
	if !slices.Contains(bs.AMR, amrUpstream) {
		return bs.AMR
	}
	out := make([]string, 0, len(bs.AMR)-1)
	for _, m := range bs.AMR {
		if m != amrUpstream {
			out = append(out, m)
		}
	}
	return out
}

// withSecondFactor adds the methods of a second factor to those of the
// first, and mfa.
func withSecondFactor(first []string, second ...string) []string {
	out := slices.Clone(first)
	for _, m := range append(second, amrMFA) {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

// wantsMFA reports whether a request must be satisfied with two factors:
// the deployment or the client requires it, or the request asks for the
// mfa class in acr_values (OIDC Core §3.1.2.1; acr_values are voluntary
// claims, but a client naming the stronger class gets it or nothing).
func (b *browserFlow) wantsMFA(ar fosite.AuthorizeRequester) bool {
	if b.mfa == MFARequired {
		return true
	}
	if fc, ok := ar.GetClient().(*fositeClient); ok && fc.c.MFA == MFARequired {
		return true
	}
	for _, v := range strings.Fields(ar.GetRequestForm().Get("acr_values")) {
		if v == ACRMFA || v == "2" {
			return true
		}
	}
	return false
}

// factorStatus returns what the user has enrolled.
func (b *browserFlow) factorStatus(ctx context.Context, userID string) (*accounts.Status, error) {
	return b.factors.Status(ctx, userID)
}

// audit records a factor event for the user (best effort: a sign-in is
// not refused because its audit line could not be written).
func (b *browserFlow) audit(ctx context.Context, userID, typ string, data map[string]any) {
	if b.auditor == nil {
		return
	}
	if err := b.auditor.Record(store.WithActor(ctx, "user:"+userID), typ, userID, data); err != nil {
		b.log.Warn("audit", "type", typ, "err", err)
	}
}

// stepUp answers an authorization request that needs two factors from a
// session with one: the second step when the user has a factor, else the
// account page to enrol one; with prompt=none, interaction_required
// (OIDC Core §3.1.2.6).
func (b *browserFlow) stepUp(c *gin.Context, ar fosite.AuthorizeRequester, who *signedIn, returnTo string, none bool) {
	ctx := c.Request.Context()
	if none {
		b.authorizeError(ctx, c.Writer, c.Request, ar, fosite.ErrInteractionRequired.WithHint("A second factor is required."))
		return
	}
	st, err := b.factorStatus(ctx, who.user.ID)
	if err != nil {
		b.authorizeError(ctx, c.Writer, c.Request, ar, fosite.ErrTemporarilyUnavailable.WithWrap(err))
		return
	}
	if st.HasSecondFactor() {
		http.Redirect(c.Writer, c.Request, secondStepURL(returnTo), http.StatusSeeOther)
		return
	}
	http.Redirect(c.Writer, c.Request, PathAccount+"?return_to="+url.QueryEscape(returnTo), http.StatusSeeOther)
}
