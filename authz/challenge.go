package authz

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ory/fosite"

	"github.com/keyward/keyward/store"
)

// PathUIReturn is where a browser comes back from an external login or
// consent UI: the redirect_to of an accepted or rejected challenge, with
// a one-time verifier.
const PathUIReturn = "/oauth2/ui/return"

// DefaultUIChallengeTTL is how long an external UI has to answer a
// challenge, and the browser to come back with its verifier.
const DefaultUIChallengeTTL = 10 * time.Minute

// The kinds of UI challenge.
const (
	UILogin   = "login"
	UIConsent = "consent"
)

// UIRequests is sign-in and consent through an external ("bring your
// own") UI. With a login or consent UI URL configured, the authorization
// endpoint does not render its own page: it stores a one-time challenge
// bound to the pending authorization request and to the browser (through
// its CSRF cookie), and redirects to URL?login_challenge=… (or
// consent_challenge=…). The UI reads the request and answers through the
// admin API (admin/loginrequests.go), which returns the URL on PathUIReturn
// the UI sends the browser to; there Keyward signs the browser in, or
// records the consent, and resumes the authorization request.
type UIRequests struct {
	b          *browserFlow
	loginURL   string
	consentURL string
	ttl        time.Duration
}

// pendingUI is what a challenge remembers: what the UI may read, and the
// browser binding and return address it may not.
type pendingUI struct {
	UIRequest
	ReturnTo string `json:"return_to"`
	Binding  string `json:"binding"`
}

// UIRequest is a pending sign-in or consent as the external UI sees it.
type UIRequest struct {
	Challenge  string `json:"challenge"`
	ClientID   string `json:"client_id"`
	ClientName string `json:"client_name,omitempty"`
	// RequestedScope and RequestedAudience are the authorization
	// request's scopes and audience; RequestedResource its RFC 8707
	// resource parameters.
	RequestedScope    []string `json:"requested_scope"`
	RequestedAudience []string `json:"requested_audience"`
	RequestedResource []string `json:"requested_resource"`
	// LoginHint is the request's login_hint (OIDC Core §3.1.2.1).
	LoginHint string   `json:"login_hint,omitempty"`
	Prompt    []string `json:"prompt,omitempty"`
	// Skip reports whether the browser is already signed in (as Subject):
	// the UI need not ask for credentials again, unless Prompt holds login.
	// On a consent request Subject is the signed-in user.
	Skip       bool      `json:"skip"`
	Subject    string    `json:"subject,omitempty"`
	RequestURL string    `json:"request_url"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// uiOutcome is the app's answer to a challenge.
type uiOutcome struct {
	Accepted   bool     `json:"accepted"`
	UserID     string   `json:"user_id,omitempty"`
	Remember   bool     `json:"remember,omitempty"`
	ACR        string   `json:"acr,omitempty"`
	AMR        []string `json:"amr,omitempty"`
	GrantScope []string `json:"grant_scope,omitempty"`
	Error      string   `json:"error,omitempty"`
	ErrorDesc  string   `json:"error_description,omitempty"`
}

// Errors of UIRequests for the admin API.
var (
	// ErrUIRequestNotFound: no challenge of that kind, or it expired.
	ErrUIRequestNotFound = errors.New("authz: no such login or consent request")
	// ErrUIRequestHandled: the challenge was accepted or rejected already.
	ErrUIRequestHandled = errors.New("authz: login or consent request already handled")
)

// UIFieldError is an invalid field of an accept or reject body.
type UIFieldError struct{ Field, Message string }

func (e *UIFieldError) Error() string { return e.Field + ": " + e.Message }

// LoginUIURL and ConsentUIURL are the configured external UIs ("": the
// built-in pages).
func (u *UIRequests) LoginUIURL() string   { return u.loginURL }
func (u *UIRequests) ConsentUIURL() string { return u.consentURL }

func (u *UIRequests) digest(purpose, value string) string {
	return u.b.mac(u.b.csrfKey, "ui-"+purpose, value)
}

// redirect sends the browser to the external UI of kind for ar, if one is
// configured; false when none is (the built-in page follows).
func (u *UIRequests) redirect(c *gin.Context, kind string, ar fosite.AuthorizeRequester, who *signedIn, returnTo string) bool {
	if u == nil {
		return false
	}
	target := u.loginURL
	if kind == UIConsent {
		target = u.consentURL
	}
	if target == "" {
		return false
	}
	ctx, w, r := c.Request.Context(), c.Writer, c.Request
	bind := u.b.parBinding(w, r)
	challenge, err := randomToken(32)
	if err != nil || bind == nil {
		u.b.authorizeError(ctx, w, r, ar, fosite.ErrServerError.WithHint("The sign-in could not be started."))
		return true
	}
	id := u.digest("challenge", challenge)
	client := ar.GetClient().(*fositeClient).c
	form := ar.GetRequestForm()
	p := pendingUI{ReturnTo: returnTo, Binding: bind("ui:" + id), UIRequest: UIRequest{
		ClientID: client.ID, ClientName: client.Name,
		RequestedScope: nonNil(ar.GetRequestedScopes()), RequestedAudience: nonNil(ar.GetRequestedAudience()),
		RequestedResource: nonNil(form["resource"]), LoginHint: form.Get("login_hint"),
		Prompt: strings.Fields(form.Get("prompt")), RequestURL: u.b.issuer + returnTo,
	}}
	if who != nil {
		p.Skip, p.Subject = kind == UILogin, who.user.ID
		if kind == UIConsent {
			p.Skip = false
		}
	}
	now := u.b.now().UTC()
	raw, _ := json.Marshal(p)
	err = u.b.store.CreateUIChallenge(ctx, &store.UIChallenge{ID: id, Kind: kind, Request: string(raw),
		CreatedAt: store.Truncate(now), ExpiresAt: store.Truncate(now.Add(u.ttl))})
	if err != nil {
		u.b.authorizeError(ctx, w, r, ar, fosite.ErrTemporarilyUnavailable.WithWrap(err))
		return true
	}
	dest, err := url.Parse(target)
	if err != nil {
		u.b.authorizeError(ctx, w, r, ar, fosite.ErrServerError.WithHint("The sign-in page is misconfigured."))
		return true
	}
	q := dest.Query()
	q.Set(kind+"_challenge", challenge)
	dest.RawQuery = q.Encode()
	http.Redirect(w, r, dest.String(), http.StatusSeeOther)
	return true
}

func nonNil[S ~[]string](s S) []string {
	if s == nil {
		return []string{}
	}
	return []string(s)
}

// load returns the pending challenge of kind; ErrUIRequestNotFound when
// there is none or it expired.
func (u *UIRequests) load(ctx context.Context, kind, challenge string) (*store.UIChallenge, *pendingUI, error) {
	if challenge == "" || len(challenge) > 128 {
		return nil, nil, ErrUIRequestNotFound
	}
	ch, err := u.b.store.GetUIChallenge(ctx, u.digest("challenge", challenge))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrUIRequestNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	if ch.Kind != kind || !u.b.now().Before(ch.ExpiresAt) {
		return nil, nil, ErrUIRequestNotFound
	}
	var p pendingUI
	if err := json.Unmarshal([]byte(ch.Request), &p); err != nil {
		return nil, nil, err
	}
	p.Challenge, p.ExpiresAt = challenge, ch.ExpiresAt
	return ch, &p, nil
}

// Get returns the pending request of a challenge of kind (UILogin or
// UIConsent): ErrUIRequestNotFound when unknown or expired,
// ErrUIRequestHandled when answered already.
func (u *UIRequests) Get(ctx context.Context, kind, challenge string) (*UIRequest, error) {
	ch, p, err := u.load(ctx, kind, challenge)
	if err != nil {
		return nil, err
	}
	if !ch.DecidedAt.IsZero() {
		return nil, ErrUIRequestHandled
	}
	return &p.UIRequest, nil
}

// LoginAcceptance is the app's sign-in of a person.
type LoginAcceptance struct {
	// Subject is a user's id or username.
	Subject  string
	Remember bool
	ACR      string
	AMR      []string
}

// AcceptLogin records that the app signed in acc.Subject for the login
// challenge and returns the URL to send the browser to. A user unknown or
// disabled is a *UIFieldError on subject.
func (u *UIRequests) AcceptLogin(ctx context.Context, challenge string, acc LoginAcceptance) (string, error) {
	if acc.Subject == "" {
		return "", &UIFieldError{"subject", "is required"}
	}
	user, err := u.b.store.GetUser(ctx, acc.Subject)
	if errors.Is(err, store.ErrNotFound) {
		user, err = u.b.store.GetUserByUsername(ctx, acc.Subject)
	}
	if errors.Is(err, store.ErrNotFound) {
		return "", &UIFieldError{"subject", "no user has this id or username"}
	}
	if err != nil {
		return "", err
	}
	if user.Disabled {
		return "", &UIFieldError{"subject", "the user is disabled"}
	}
	return u.decide(ctx, UILogin, challenge, &uiOutcome{Accepted: true, UserID: user.ID, Remember: acc.Remember,
		ACR: acc.ACR, AMR: acc.AMR}, user.ID)
}

// ConsentAcceptance is the person's consent, as the app collected it.
type ConsentAcceptance struct {
	// GrantScope must be a subset of the requested scopes.
	GrantScope []string
	// Remember stores the consent, as the built-in page does.
	Remember bool
}

// AcceptConsent records the consent for the consent challenge and
// returns the URL to send the browser to.
func (u *UIRequests) AcceptConsent(ctx context.Context, challenge string, acc ConsentAcceptance) (string, error) {
	_, p, err := u.load(ctx, UIConsent, challenge)
	if err != nil {
		return "", err
	}
	for _, s := range acc.GrantScope {
		if !slices.Contains(p.RequestedScope, s) {
			return "", &UIFieldError{"grant_scope", "scope " + s + " was not requested"}
		}
	}
	return u.decide(ctx, UIConsent, challenge, &uiOutcome{Accepted: true, UserID: p.Subject,
		GrantScope: nonNil(acc.GrantScope), Remember: acc.Remember}, p.Subject)
}

// Reject records that the app refused the challenge of kind, with an
// OAuth error ("" is access_denied), and returns the URL to send the
// browser to; it ends at the client's redirect URI with that error.
func (u *UIRequests) Reject(ctx context.Context, kind, challenge, code, description string) (string, error) {
	if code == "" {
		code = "access_denied"
	}
	if _, ok := uiErrors[code]; !ok {
		return "", &UIFieldError{"error", "must be an OAuth error code such as access_denied"}
	}
	if len(description) > 1000 {
		return "", &UIFieldError{"error_description", "is longer than 1000 characters"}
	}
	for _, r := range description {
		// RFC 6749 §4.1.2.1: %x20-21 / %x23-5B / %x5D-7E.
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return "", &UIFieldError{"error_description", "may hold only printable ASCII without \" and \\"}
		}
	}
	_, p, err := u.load(ctx, kind, challenge)
	if err != nil {
		return "", err
	}
	return u.decide(ctx, kind, challenge, &uiOutcome{Error: code, ErrorDesc: description}, p.Subject)
}

// decide stores the outcome with a new verifier, audited, and returns the
// browser's way back.
func (u *UIRequests) decide(ctx context.Context, kind, challenge string, o *uiOutcome, subject string) (string, error) {
	ch, p, err := u.load(ctx, kind, challenge)
	if err != nil {
		return "", err
	}
	if !ch.DecidedAt.IsZero() {
		return "", ErrUIRequestHandled
	}
	verifier, err := randomToken(32)
	if err != nil {
		return "", err
	}
	raw, _ := json.Marshal(o)
	event := kind + "_request.accepted"
	data := map[string]any{"client_id": p.ClientID}
	if o.Accepted {
		if kind == UIConsent {
			data["scopes"] = o.GrantScope
		} else {
			data["acr"], data["amr"] = o.ACR, o.AMR
		}
	} else {
		event = kind + "_request.rejected"
		data["error"] = o.Error
	}
	write := func(ctx context.Context) error {
		err := u.b.store.DecideUIChallenge(ctx, ch.ID, u.digest("verifier", verifier), string(raw), u.b.now().UTC())
		switch {
		case errors.Is(err, store.ErrConflict):
			return ErrUIRequestHandled
		case errors.Is(err, store.ErrNotFound):
			return ErrUIRequestNotFound
		case err != nil:
			return err
		}
		if u.b.auditor != nil {
			return u.b.auditor.Record(ctx, event, subject, data)
		}
		return nil
	}
	if u.b.auditor != nil {
		err = u.b.auditor.Atomic(ctx, write)
	} else {
		err = write(ctx)
	}
	if err != nil {
		return "", err
	}
	return u.b.issuer + PathUIReturn + "?" + url.Values{"verifier": {verifier}}.Encode(), nil
}

func newUIRequests(b *browserFlow, cfg Config) *UIRequests {
	ttl := cfg.UIChallengeTTL
	if ttl <= 0 {
		ttl = DefaultUIChallengeTTL
	}
	return &UIRequests{b: b, loginURL: cfg.LoginUIURL, consentURL: cfg.ConsentUIURL, ttl: ttl}
}

// UIRequests returns the external login and consent UI's side of the
// provider, for the admin API.
func (p *Provider) UIRequests() *UIRequests { return p.browser.ui }
