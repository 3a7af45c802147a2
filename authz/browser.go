package authz

import (
	"log/slog"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/ory/fosite"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/store"
)

// browserFlow is the part of the provider a person's browser meets: the
// authorization endpoint, the login, consent and logout pages, their
// cookies and CSRF tokens, and the error pages shown before a redirect is
// allowed.
type browserFlow struct {
	issuer   string
	now      func() time.Time
	store    Store
	signer   Signer // verifies id_token_hint at logout
	oauth    fosite.OAuth2Provider
	clients  *clients.Cache
	sessions *accounts.BrowserSessions
	logins   *accounts.LoginGuard
	csrfKey  []byte
	pages    *pages
	auditor  *store.Auditor // nil: sign-ins are not audited
	log      *slog.Logger
	obs      Observer
	// resources checks RFC 8707 resource parameters.
	resources *resourceIndicators
	// pushed resolves and uses up pushed authorization requests (RFC
	// 9126); requirePAR refuses every front-channel request without one.
	pushed     *fositeStore
	requirePAR bool
	// cimd reads Client ID Metadata Documents (cimd.go).
	cimd *cimdResolver
	// upstream is "Sign in with …" (upstream OpenID providers).
	upstream *upstreamFlow
	// backchannel records the clients a session signs in to and queues
	// their logout tokens when it ends.
	backchannel *backchannel
	// objects verifies request objects (RFC 9101) sent in request.
	objects *requestObjects
	// mfa is the deployment's second-factor policy (MFAOptional or
	// MFARequired); factors, rp, ceremonies and stepKey run second
	// factors and passkeys (mfa.go, secondstep.go, passkey*.go).
	mfa        string
	factors    *accounts.Factors
	rp         *webauthn.WebAuthn
	ceremonies *ceremonySealer
	stepKey    []byte
	// ui sends the browser to an external login or consent UI when one
	// is configured (challenge.go).
	ui *UIRequests
}
