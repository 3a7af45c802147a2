package authz

import (
	"context"
	"crypto/hmac"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store"
)

// PathUpstreamCallback is the redirect URI path of the upstream provider
// named by :name (accounts.RedirectURI).
const PathUpstreamCallback = "/oauth2/upstream/:name/callback"

// upstreamFlow is "Sign in with …": Keyward as an OpenID Connect relying
// party of an upstream provider (OIDC Core §3.1, the authorization code
// flow, with state, nonce and PKCE S256, RFC 7636). The login page links
// to /login?provider=NAME; start sends the browser to the provider with a
// sealed state cookie; callback checks the state, exchanges the code,
// verifies the ID token (issuer, audience, expiry, signature, nonce),
// finds or creates the local user (accounts.Federation) and signs the
// browser in as the password step would, then resumes the pending
// authorization request.
type upstreamFlow struct {
	b         *browserFlow
	providers *accounts.Providers
	fed       *accounts.Federation
	// client returns the HTTP client for every fetch from an upstream:
	// the one seam for the guarded outbound fetcher.
	client func() *http.Client
	states *stateSealer
	used   usedStates
	now    func() time.Time
	log    *slog.Logger

	mu    sync.Mutex
	known map[string]discovered // by provider id
}

// newUpstreamFlow returns the upstream sign-in of b; with no providers
// configured, the login page shows none and every request for one is
// refused.
func newUpstreamFlow(b *browserFlow, cfg Config) (*upstreamFlow, error) {
	states, err := newStateSealer(cfg.Secret.Derive(keys.PurposeUpstreamState))
	if err != nil {
		return nil, err
	}
	u := &upstreamFlow{b: b, providers: cfg.Upstream, fed: cfg.Federation, client: cfg.UpstreamClient,
		states: states, now: func() time.Time { return cfg.Now().UTC() }, log: cfg.Logger}
	if u.fed == nil {
		u.providers = nil
	}
	return u, nil
}

// discovered is an upstream's discovery document and keys (go-oidc),
// kept for discoveryTTL.
type discovered struct {
	issuer string
	op     *oidc.Provider
	at     time.Time
}

const discoveryTTL = 15 * time.Minute

// providerLink is one "Sign in with …" link of the login page.
type providerLink struct{ Name, DisplayName, URL string }

// links returns the login page's links to the enabled providers, each
// carrying provider=NAME and the pending authorization request.
func (u *upstreamFlow) links(ctx context.Context, returnTo string) []providerLink {
	if u.providers == nil {
		return nil
	}
	ps, _, err := u.providers.List(ctx, store.Page{Limit: store.MaxPageLimit})
	if err != nil {
		u.log.Warn("login page: list upstream providers", "err", err)
		return nil
	}
	var out []providerLink
	for _, p := range ps {
		if !p.Enabled {
			continue
		}
		q := url.Values{"provider": {p.Name}}
		if returnTo != "" {
			q.Set("return_to", returnTo)
		}
		out = append(out, providerLink{Name: p.Name, DisplayName: p.DisplayName, URL: PathLogin + "?" + q.Encode()})
	}
	return out
}

// start sends the browser to provider name's authorization endpoint
// (GET /login?provider=NAME&return_to=…).
func (u *upstreamFlow) start(c *gin.Context, name, returnTo string) {
	ctx, w, r := c.Request.Context(), c.Writer, c.Request
	up, ok := u.provider(c, name)
	if !ok {
		return
	}
	op, err := u.discover(ctx, up)
	if err != nil {
		u.fail(c, name, "upstream_unreachable", err)
		return
	}
	state, err1 := randomToken(32)
	nonce, err2 := randomToken(32)
	if err1 != nil || err2 != nil {
		c.Status(http.StatusInternalServerError)
		return
	}
	verifier := oauth2.GenerateVerifier()
	st := &upstreamState{Provider: up.Name, ProviderID: up.ID, State: state, Nonce: nonce, Verifier: verifier,
		ReturnTo: returnTo, Expires: u.now().Add(upstreamStateTTL).Unix()}
	http.SetCookie(w, &http.Cookie{Name: upstreamCookie, Value: u.states.seal(st), Path: upstreamCookiePath,
		HttpOnly: true, Secure: u.b.secureCookies(r), SameSite: http.SameSiteLaxMode, MaxAge: int(upstreamStateTTL.Seconds())})
	conf := u.oauth2Config(up, op, "")
	securityHeaders(w.Header())
	http.Redirect(w, r, conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), http.StatusSeeOther)
}

// provider returns the enabled provider name, or answers the error page.
func (u *upstreamFlow) provider(c *gin.Context, name string) (*store.UpstreamProvider, bool) {
	if u.providers == nil || len(name) > 64 {
		u.fail(c, truncateString(name, 64), "unknown_provider", nil)
		return nil, false
	}
	up, err := u.providers.Get(c.Request.Context(), name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		u.b.log.Warn("upstream sign-in: store unavailable", "err", err)
		u.b.outagePage(c.Writer, c.Request)
		return nil, false
	}
	if err != nil || up.Name != name || !up.Enabled {
		u.fail(c, name, "unknown_provider", nil)
		return nil, false
	}
	return up, true
}

// discover returns the provider's discovery document and keys (OIDC
// Discovery §4), fetched with the upstream client and kept for a while.
// The keys are fetched later with the same client, outside any request.
func (u *upstreamFlow) discover(ctx context.Context, up *store.UpstreamProvider) (*oidc.Provider, error) {
	u.mu.Lock()
	d, ok := u.known[up.ID]
	u.mu.Unlock()
	if ok && d.issuer == up.Issuer && u.now().Sub(d.at) < discoveryTTL {
		return d.op, nil
	}
	ctx, cancel := context.WithTimeout(ctx, UpstreamClientTimeout)
	defer cancel()
	// go-oidc keeps this context (without its deadline) for the JWKS
	// fetches to come, so they use the upstream client too.
	op, err := oidc.NewProvider(u.clientContext(ctx), up.Issuer)
	if err != nil {
		return nil, err
	}
	u.mu.Lock()
	if u.known == nil {
		u.known = map[string]discovered{}
	}
	u.known[up.ID] = discovered{issuer: up.Issuer, op: op, at: u.now()}
	u.mu.Unlock()
	return op, nil
}

// clientContext makes go-oidc and x/oauth2 use the upstream client.
func (u *upstreamFlow) clientContext(ctx context.Context) context.Context {
	cl := u.client()
	return context.WithValue(oidc.ClientContext(ctx, cl), oauth2.HTTPClient, cl)
}

func (u *upstreamFlow) oauth2Config(up *store.UpstreamProvider, op *oidc.Provider, secret string) *oauth2.Config {
	return &oauth2.Config{ClientID: up.ClientID, ClientSecret: secret, Endpoint: op.Endpoint(),
		RedirectURL: u.providers.RedirectURI(up.Name), Scopes: up.Scopes}
}

// callback finishes a sign-in at an upstream provider (GET
// /oauth2/upstream/NAME/callback, OIDC Core §3.1.2.5 – §3.1.3.7).
func (u *upstreamFlow) callback(c *gin.Context) {
	ctx, w, r := c.Request.Context(), c.Writer, c.Request
	name := c.Param("name")
	// The state works once: its cookie goes whatever the outcome.
	st, err := u.states.open(r)
	http.SetCookie(w, &http.Cookie{Name: upstreamCookie, Value: "", Path: upstreamCookiePath, HttpOnly: true,
		Secure: u.b.secureCookies(r), SameSite: http.SameSiteLaxMode, MaxAge: -1})
	q := r.URL.Query()
	now := u.now()
	switch {
	case err != nil:
		u.fail(c, name, "state_missing", nil)
		return
	case now.Unix() > st.Expires:
		u.fail(c, name, "state_expired", nil)
		return
	case st.Provider != name || !hmac.Equal([]byte(q.Get("state")), []byte(st.State)):
		u.fail(c, name, "state_mismatch", nil)
		return
	case !u.used.use(st.State, time.Unix(st.Expires, 0), now):
		u.fail(c, name, "state_replayed", nil)
		return
	}
	if e := q.Get("error"); e != "" {
		reason := "upstream_error"
		if e == "access_denied" {
			reason = "access_denied"
		}
		u.fail(c, name, reason, errors.New(truncateString(e+": "+q.Get("error_description"), 200)))
		return
	}
	if q.Get("code") == "" {
		u.fail(c, name, "code_missing", nil)
		return
	}
	up, ok := u.provider(c, name)
	if !ok {
		return
	}
	if up.ID != st.ProviderID {
		u.fail(c, name, "unknown_provider", nil)
		return
	}
	claims, reason, err := u.exchange(ctx, up, st, q.Get("code"))
	if err != nil {
		u.fail(c, name, reason, err)
		return
	}
	user, how, err := u.fed.Resolve(ctx, up, claims)
	switch {
	case errors.Is(err, accounts.ErrUserDisabled):
		u.fail(c, name, "user_disabled", nil)
		return
	case errors.Is(err, store.ErrInvalid):
		u.fail(c, name, "claims_invalid", err)
		return
	case err != nil:
		u.b.log.Warn("upstream sign-in: store unavailable", "err", err)
		u.b.outagePage(w, r)
		return
	}
	u.b.obs.Login(SurfaceLoginPage, accounts.LoginSucceeded)
	amr := upstreamAMR(claims.AMR)
	if err := u.b.sessions.StartAMR(ctx, w, r, user, amr); err != nil {
		u.b.log.Warn("upstream sign-in: store unavailable", "err", err)
		u.b.outagePage(w, r)
		return
	}
	if u.b.auditor != nil {
		_ = u.b.auditor.Record(store.WithActor(ctx, "user:"+user.ID), "user.signed_in", user.ID, map[string]any{
			"method": "upstream", "amr": sessionAMR(&store.BrowserSession{AMR: amr}), "provider": up.Name, "account": how})
	}
	returnTo := safeReturn(st.ReturnTo)
	if returnTo == "" {
		u.b.pages.render(w, r, http.StatusOK, "message.html", pageData{Title: tr("Signed in"),
			Message: tr("You are signed in as %s."), MessageArgs: []any{user.Username}})
		return
	}
	// Not a redirect: the browser comes here at the end of the upstream's
	// form submissions, whose CSP form-action may allow this origin but
	// not the client's redirect URI that the authorization request may
	// redirect to next. A refresh is a navigation of its own.
	w.Header().Set("Refresh", "0; url="+returnTo)
	u.b.pages.render(w, r, http.StatusOK, "upstream_continue.html", pageData{Title: tr("Signed in"),
		Message: tr("You are signed in as %s."), MessageArgs: []any{user.Username}, ReturnTo: returnTo})
}
