package authz

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ory/fosite"

	"github.com/keyward/keyward/store"
)

// authorize is the authorization endpoint (RFC 6749 §3.1, OIDC Core §3.1.2):
// it validates the request with fosite, sends an unauthenticated browser to
// the login page, asks for consent when needed, and redirects back with a
// code, the state and the issuer (RFC 9207).
func (b *browserFlow) authorize(c *gin.Context) {
	ctx, r := c.Request.Context(), c.Request
	// Until fosite has validated the client and its redirect URI, every
	// error is a page for the person (errorPage), never a redirect.
	switch status := capForm(c); status {
	case 0:
	case http.StatusRequestEntityTooLarge:
		b.badRequestPage(c.Writer, c.Request, status, "The request is larger than 1 MiB.")
		return
	default:
		b.badRequestPage(c.Writer, c.Request, status, "The request's parameters could not be read.")
		return
	}
	if !validUTF8Form(r) {
		b.badRequestPage(c.Writer, c.Request, http.StatusBadRequest, "The request is not valid UTF-8.")
		return
	}
	if k, ok := repeatedQuery(r); ok {
		// Which of the values is meant is unknowable.
		b.badRequestPage(c.Writer, c.Request, http.StatusBadRequest, "The parameter "+strconv.Quote(k)+" is included more than once.")
		return
	}
	if rm := r.Form.Get("response_mode"); rm != "" && rm != "query" {
		// Only query is advertised; form_post would render fosite's own page
		// outside this server's Content-Security-Policy.
		b.badRequestPage(c.Writer, c.Request, http.StatusBadRequest, "response_mode must be query (response_modes_supported).")
		return
	}
	if !b.checkCIMD(c) {
		return
	}
	// The address of this request for the login and consent pages: for a
	// pushed request only client_id and request_uri (RFC 9126 §4), which
	// fosite's request then extends with the pushed parameters.
	query := r.Form.Encode()
	if isPARRequestURI(r.Form.Get("request_uri")) {
		query = pushedOnly(r.Form).Encode()
	}
	signed := r.Form.Has("request") && !isPARRequestURI(r.Form.Get("request_uri"))
	ar, err := b.newAuthorizeRequest(ctx, c.Writer, r)
	if err == nil {
		err = checkPKCE(ar)
	}
	if err != nil {
		b.authorizeError(ctx, c.Writer, c.Request, ar, err)
		return
	}
	if signed {
		// The login and consent pages come back with the verified
		// parameters of the request object (RFC 9101 §6.3), not the
		// object, whose exp may be a minute away: the person may take
		// longer to sign in. No client is held to signed requests, so
		// this gives nobody a request they could not send unsigned.
		query = r.Form.Encode()
	}
	who, err := b.currentUser(ctx, r)
	if err != nil {
		b.authorizeError(ctx, c.Writer, c.Request, ar, fosite.ErrTemporarilyUnavailable.WithWrap(err))
		return
	}
	prompt := strings.Fields(ar.GetRequestForm().Get("prompt"))
	needLogin := who == nil
	if who != nil && slices.Contains(prompt, "login") && b.now().Sub(who.session.CreatedAt) > freshLogin {
		needLogin = true
	}
	if who != nil && ar.GetRequestForm().Get("max_age") != "" {
		if age, ok := parseMaxAge(ar.GetRequestForm().Get("max_age")); ok && b.now().Sub(who.session.CreatedAt) > age {
			needLogin = true
		}
	}
	if needLogin {
		if slices.Contains(prompt, "none") {
			b.authorizeError(ctx, c.Writer, c.Request, ar, fosite.ErrLoginRequired)
			return
		}
		// RFC 6749 §3.1 allows GET and POST; the login page returns with GET.
		returnTo := "/oauth2/auth?" + query
		if b.ui.redirect(c, UILogin, ar, who, returnTo) {
			return
		}
		loginURL := "/login?return_to=" + url.QueryEscape(returnTo)
		// A pushed request's ui_locales is not in its query (RFC 9126):
		// the login page gets it beside the return_to.
		if ui := ar.GetRequestForm().Get("ui_locales"); ui != "" && uiLocalesOf(returnTo) == "" && len(ui) <= 256 {
			loginURL += "&ui_locales=" + url.QueryEscape(ui)
		}
		http.Redirect(c.Writer, r, loginURL, http.StatusSeeOther)
		return
	}
	if b.wantsMFA(ar) && acrOf(sessionAMR(who.session)) != ACRMFA {
		// Step-up (mfa.go): a second factor, or enrolment of one.
		b.stepUp(c, ar, who, "/oauth2/auth?"+query, slices.Contains(prompt, "none"))
		return
	}
	client := ar.GetClient().(*fositeClient).c
	if !slices.Contains(prompt, "consent") {
		granted, err := b.consented(ctx, who.user.ID, client, ar.GetRequestedScopes())
		if err != nil {
			b.authorizeError(ctx, c.Writer, c.Request, ar, fosite.ErrTemporarilyUnavailable.WithWrap(err))
			return
		}
		if granted {
			b.issueCode(ctx, c.Writer, c.Request, ar, who)
			return
		}
	}
	if slices.Contains(prompt, "none") {
		b.authorizeError(ctx, c.Writer, c.Request, ar, fosite.ErrConsentRequired)
		return
	}
	if b.ui.redirect(c, UIConsent, ar, who, "/oauth2/auth?"+query) {
		return
	}
	b.showConsent(c, ar, who, "/oauth2/auth?"+query)
}

// newAuthorizeRequest is fosite's NewAuthorizeRequest without its demand
// for a state, followed by the checks of resource indicators. RFC 6749 §4.1.1 only recommends state, and a client using
// PKCE may rely on it instead (RFC 9700 §2.1). fosite checks the state's
// length last, after every other validation, so its ErrInvalidState for
// a missing state comes with a fully validated request; with
// MinParameterEntropy 1 (see New) that is the only case it can arise.
//
// A request object (RFC 9101) in the request parameter is verified and
// replaces the other parameters (requestObjects.expand); a failure is an
// error with no request (a page: the redirect URI inside could not be
// trusted). Any request_uri other than a pushed request's is
// request_uri_not_supported.
//
// A request by reference to a pushed request (RFC 9126 §4) is the pushed
// request: of the front-channel parameters only client_id (which must be
// the pushing client's) and request_uri are read, and the request_uri is
// taken up for this browser (w sets its binding cookie when it has none;
// nil when it cannot). Every failure to use one is an error with no
// request, so it is shown as a page, not sent to a redirect URI:
// invalid_request_uri when it is unknown, used or expired. A
// front-channel request that should have been pushed (the client's or
// the server's setting) is invalid_request, with the validated request.
func (b *browserFlow) newAuthorizeRequest(ctx context.Context, w http.ResponseWriter, r *http.Request) (fosite.AuthorizeRequester, error) {
	if r.Form == nil {
		if err := r.ParseForm(); err != nil {
			return nil, fosite.ErrInvalidRequest.WithHint("The request's parameters could not be read.")
		}
	}
	if isPARRequestURI(r.Form.Get("request_uri")) {
		r.Form = pushedOnly(r.Form)
		bind := b.parBinding(w, r)
		if bind == nil {
			return nil, fosite.ErrInvalidRequestURI.WithHint("The request_uri cannot be used without cookies.")
		}
		ar, err := b.oauth.NewAuthorizeRequest(withPARBrowser(ctx, bind), r)
		var pe *parError
		switch {
		case errors.As(err, &pe):
			return nil, fosite.ErrInvalidRequestURI.WithHint(pe.Hint)
		case err != nil:
			return nil, err
		}
		return ar, nil
	}
	if r.Form.Has("request_uri") {
		return nil, errRequestURINotSupported
	}
	if r.Form.Has("request") {
		// RFC 9101 §6.3: the request object's parameters, and only those.
		form, err := b.objects.expand(ctx, r.Form.Get("client_id"), r.Form)
		if err != nil {
			return nil, err
		}
		r.Form = form
	}
	ar, err := b.oauth.NewAuthorizeRequest(ctx, r)
	if err != nil && ar != nil && ar.GetState() == "" && errors.Is(err, fosite.ErrInvalidState) {
		err = nil
	}
	if err == nil && b.parRequired(ar) {
		err = errPARRequired
	}
	if err == nil {
		err = checkDPoPJKT(ar.GetRequestForm())
	}
	if err == nil {
		// RFC 8707 resource indicators, after fosite validated the client
		// and its redirect URI (an error goes back to the client).
		err = b.resources.authorize(ctx, ar)
	}
	return ar, err
}

// freshLogin is how recent a sign-in must be to satisfy prompt=login.
const freshLogin = 60 * time.Second

func parseMaxAge(s string) (time.Duration, bool) {
	var n int64
	for _, ch := range s {
		if ch < '0' || ch > '9' || n > 1<<40 {
			return 0, false
		}
		n = n*10 + int64(ch-'0')
	}
	return time.Duration(n) * time.Second, s != ""
}

// consented reports whether the user already granted every requested
// scope to the client, or the client skips consent.
func (b *browserFlow) consented(ctx context.Context, userID string, client *store.Client, scopes []string) (bool, error) {
	if client.SkipConsent {
		return true, nil
	}
	cons, err := b.store.GetConsent(ctx, userID, client.ID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, s := range scopes {
		if !slices.Contains(cons.Scopes, s) {
			return false, nil
		}
	}
	return true, nil
}

// issueCode grants the requested scopes and audience and redirects back
// with an authorization code.
func (b *browserFlow) issueCode(ctx context.Context, w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, who *signedIn) {
	for _, s := range ar.GetRequestedScopes() {
		ar.GrantScope(s)
	}
	client := ar.GetClient().(*fositeClient).c
	sess := NewSession(who.user.ID)
	grantAuthorized(ar, sess)
	sess.UserID = who.user.ID
	// RFC 9449 §10: the code is bound to the key named by dpop_jkt.
	sess.DPoPJKT = ar.GetRequestForm().Get("dpop_jkt")
	claims := sess.IDTokenClaims()
	claims.Subject = who.user.ID
	claims.Issuer = b.issuer
	claims.AuthTime = who.session.CreatedAt.UTC().Truncate(time.Second)
	claims.AuthenticationMethodsReferences = sessionAMR(who.session)
	claims.AuthenticationContextClassReference = acrOf(claims.AuthenticationMethodsReferences)
	claims.RequestedAt = ar.GetRequestedAt().UTC()
	if claims.AuthTime.After(claims.RequestedAt) {
		claims.RequestedAt = claims.AuthTime
	}
	alg := client.IDTokenAlg
	if alg == "" {
		alg = DefaultIDTokenAlg
	}
	sess.IDTokenHeaders().Add("alg", alg)
	// The session's sid (OIDC Back-Channel Logout §2.1), in every ID token
	// of the grant (refreshes included) and in the grant's stored session.
	claims.Extra["sid"] = SessionSID(who.session.ID)
	if err := b.backchannel.signedInTo(ctx, who, client); err != nil {
		b.authorizeError(ctx, w, r, ar, fosite.ErrTemporarilyUnavailable.WithWrap(err))
		return
	}
	if err := b.consumePAR(ctx, ar); err != nil {
		// Another tab of this browser finished the pushed request first.
		b.errorPage(w, r, err)
		return
	}
	resp, err := b.oauth.NewAuthorizeResponse(ctx, ar, sess)
	if err != nil {
		// The pushed request, if any, is used up already.
		b.writeAuthorizeError(ctx, w, ar, err)
		return
	}
	resp.AddParameter("iss", b.issuer)
	b.oauth.WriteAuthorizeResponse(ctx, &issWriter{ResponseWriter: w, issuer: b.issuer}, ar, resp)
}

// authorizeError writes an authorization error: to the client's redirect
// URI (with iss, RFC 9207 §2) when fosite validated it, else as a page for
// the person whose browser brought the request (errorPage; RFC 6749
// §4.1.2.1 forbids the redirect).
func (b *browserFlow) authorizeError(ctx context.Context, w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, err error) {
	if ar == nil || !ar.IsRedirectURIValid() {
		b.errorPage(w, r, err)
		return
	}
	if !storeFailure(err) {
		// After a store failure a pushed request stays usable.
		if cerr := b.consumePAR(ctx, ar); cerr != nil {
			// Finished in another tab, which answered the client already
			// (or the store failed now).
			b.errorPage(w, r, cerr)
			return
		}
	}
	b.writeAuthorizeError(ctx, w, ar, err)
}

// writeAuthorizeError sends err to the validated redirect URI of ar.
func (b *browserFlow) writeAuthorizeError(ctx context.Context, w http.ResponseWriter, ar fosite.AuthorizeRequester, err error) {
	if storeFailure(err) {
		// RFC 6749 §4.1.2.1 names the code for a server that cannot
		// answer now.
		err = fosite.ErrTemporarilyUnavailable.WithWrap(err)
	}
	b.oauth.WriteAuthorizeError(ctx, &issWriter{ResponseWriter: w, issuer: b.issuer}, ar, err)
}

// issWriter adds the iss parameter to the Location of a redirect, in the
// same part (query or fragment) as the response parameters, and drops the
// empty state fosite adds when the request had none (RFC 6749 §4.1.2:
// state is returned only when the request carried one).
type issWriter struct {
	http.ResponseWriter
	issuer string
}

func (w *issWriter) WriteHeader(status int) {
	if status >= 300 && status < 400 {
		if loc := w.Header().Get("Location"); loc != "" {
			w.Header().Set("Location", addIss(loc, w.issuer))
		}
	}
	w.ResponseWriter.WriteHeader(status)
}

func addIss(loc, issuer string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return loc
	}
	if frag, err := url.ParseQuery(u.Fragment); err == nil && (frag.Has("code") || frag.Has("error")) {
		setIss(frag, issuer)
		u.Fragment = frag.Encode()
		return u.String()
	}
	q := u.Query()
	setIss(q, issuer)
	u.RawQuery = q.Encode()
	return u.String()
}

// setIss adds iss to the response parameters q unless present, and drops
// an empty state.
func setIss(q url.Values, issuer string) {
	if !q.Has("iss") {
		q.Set("iss", issuer)
	}
	if q.Has("state") && q.Get("state") == "" {
		q.Del("state")
	}
}
