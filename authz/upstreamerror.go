package authz

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// upstreamFailure is how the error page explains one reason a sign-in at
// an upstream provider failed.
type upstreamFailure struct {
	status         int
	title, message string
}

var upstreamFailures = map[string]upstreamFailure{
	"unknown_provider": {http.StatusNotFound, tr("Unknown sign-in provider"),
		tr("This way of signing in does not exist or has been turned off. Go back and sign in another way.")},
	"state_missing": {http.StatusBadRequest, tr("Sign-in could not be finished"),
		tr("This sign-in was not started in this browser, or it was finished already. Go back to the application and start again.")},
	"state_expired": {http.StatusBadRequest, tr("Sign-in took too long"),
		tr("This sign-in expired before it was finished. Go back to the application and start again.")},
	"state_mismatch": {http.StatusBadRequest, tr("Sign-in could not be finished"),
		tr("The answer of the sign-in provider does not belong to the sign-in this browser started. Go back to the application and start again.")},
	"state_replayed": {http.StatusBadRequest, tr("Sign-in could not be finished"),
		tr("This sign-in was finished already. Go back to the application and start again.")},
	"access_denied": {http.StatusForbidden, tr("Sign-in cancelled"),
		tr("The sign-in provider did not let you in, or you cancelled. Go back to the application to try again or sign in another way.")},
	"upstream_error": {http.StatusBadGateway, tr("The sign-in provider refused"),
		tr("The sign-in provider answered with an error. Try again later or sign in another way.")},
	"code_missing": {http.StatusBadRequest, tr("Sign-in could not be finished"),
		tr("The sign-in provider's answer was incomplete. Go back to the application and start again.")},
	"code_rejected": {http.StatusBadGateway, tr("The sign-in provider refused"),
		tr("The sign-in provider did not accept this sign-in. Go back to the application and start again.")},
	"upstream_unreachable": {http.StatusBadGateway, tr("The sign-in provider cannot be reached"),
		tr("The sign-in provider does not answer right now. Try again in a moment or sign in another way.")},
	"id_token_missing": {http.StatusBadGateway, tr("The sign-in provider's answer is not valid"),
		tr("The sign-in provider did not say who you are. Sign in another way, and tell the administrator.")},
	"id_token_invalid": {http.StatusBadGateway, tr("The sign-in provider's answer is not valid"),
		tr("The sign-in provider's answer could not be verified, so you are not signed in. Sign in another way, and tell the administrator.")},
	"nonce_mismatch": {http.StatusBadRequest, tr("Sign-in could not be finished"),
		tr("The sign-in provider's answer does not belong to this sign-in. Go back to the application and start again.")},
	"claims_invalid": {http.StatusBadGateway, tr("The sign-in provider's answer is not valid"),
		tr("The sign-in provider did not say who you are. Sign in another way, and tell the administrator.")},
	"provider_misconfigured": {http.StatusBadGateway, tr("This sign-in provider is misconfigured"),
		tr("Sign in another way, and tell the administrator.")},
	"user_disabled": {http.StatusForbidden, tr("Account disabled"),
		tr("The account you signed in to is disabled.")},
}

// fail shows why a sign-in at provider name failed (with the reason as
// the page's error code) and records an upstream.sign_in_failed audit
// event. Nothing else is stored. err is logged, never shown.
func (u *upstreamFlow) fail(c *gin.Context, name, reason string, err error) {
	f, ok := upstreamFailures[reason]
	if !ok {
		f = upstreamFailure{http.StatusBadRequest, tr("Sign-in could not be finished"), tr("Go back to the application and start again.")}
	}
	u.log.Info("upstream sign-in failed", "provider", name, "reason", reason, "err", err, "remote", c.ClientIP())
	if u.b.auditor != nil {
		data := map[string]any{"provider": truncateString(name, 64), "reason": reason, "remote": c.ClientIP()}
		if err != nil && (reason == "access_denied" || reason == "upstream_error") {
			data["upstream_error"] = err.Error()
		}
		_ = u.b.auditor.Record(c.Request.Context(), "upstream.sign_in_failed", truncateString(name, 64), data)
	}
	u.b.pages.render(c.Writer, c.Request, f.status, "error.html", pageData{Title: f.title, Message: f.message, Code: reason})
}
