package authz

import (
	"context"
	"crypto/hmac"
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
	"github.com/ory/fosite"
)

// parEndpoint is the pushed authorization request endpoint (RFC 9126 §2):
// a client authenticates as at the token endpoint (a public client names
// itself with client_id), posts the parameters of an authorization
// request, and gets back a single-use request_uri valid for expires_in
// seconds, to send the browser to the authorization endpoint with
// client_id and that request_uri only.
type parEndpoint struct {
	fosite *fosite.Fosite
	auth   *clientAuth
	tokens *tokenEndpoint // the per-client rate limit it shares
	log    *slog.Logger
	// dpop checks a DPoP proof sent with the push (RFC 9449 §10.1);
	// dpopHTU is this endpoint's URL.
	dpop    *dpopChecker
	dpopHTU string
	// objects verifies request objects (RFC 9101) pushed in request.
	objects *requestObjects
}

// push is POST /oauth2/par. The request is validated exactly as the
// authorization endpoint would (client, redirect URI, scope, response
// type, PKCE) before anything is stored: 201 with request_uri and
// expires_in (§2.2), or an RFC 6749 §5.2 error in JSON (§2.3): 401
// invalid_client for failed client authentication, 400 invalid_request
// (a request_uri among the parameters, a bad redirect URI, missing
// PKCE…), invalid_scope, unauthorized_client, 413 for a body over 1 MiB,
// 503 when the store cannot be read.
func (h *parEndpoint) push(c *gin.Context) {
	c.Request = withAuthMemo(c.Request)
	r := c.Request
	if !readForm(c) {
		return
	}
	clientID := claimedClient(r)
	if clientID == "" {
		c.Header("WWW-Authenticate", `Basic realm="keyward", charset="UTF-8"`)
		oauthError(c, http.StatusUnauthorized, "invalid_client", "Client authentication is required: HTTP Basic, or client_id in the body.")
		return
	}
	if !h.auth.admit(c, clientID) {
		return
	}
	if h.tokens.limits.enabled() {
		ok, retry, remaining := h.tokens.limits.allow(h.tokens.limitKey(c, clientID))
		h.tokens.limits.headers(c.Writer.Header(), ok, retry, remaining)
		if !ok {
			oauthError(c, http.StatusTooManyRequests, "slow_down", "Too many requests for this client; retry later.")
			return
		}
	}
	if rm := r.PostForm.Get("response_mode"); rm != "" && rm != "query" {
		oauthError(c, http.StatusBadRequest, "invalid_request", "response_mode must be query (response_modes_supported).")
		return
	}
	if !h.pushDPoP(c) {
		return
	}
	ctx := r.Context()
	if r.PostForm.Has("request") {
		// RFC 9126 §3: a request object pushed; its parameters, and only
		// those, beside the client's authentication.
		form, err := h.objects.expand(ctx, clientID, r.PostForm)
		if err != nil {
			h.writeError(c, nil, clientID, err)
			return
		}
		for _, k := range []string{"client_secret", "client_assertion", "client_assertion_type"} {
			if r.PostForm.Has(k) {
				form[k] = r.PostForm[k]
			}
		}
		if !r.PostForm.Has("client_id") {
			form.Del("client_id") // named by HTTP Basic
		}
		r.PostForm, r.Form = form, form
	}
	gen := h.auth.cache.Generation()
	ar, err := h.newRequest(ctx, r)
	if err != nil && h.auth.stale(r, err, gen) {
		ar, err = h.newRequest(ctx, r)
	}
	if err == nil {
		err = checkPKCE(ar)
	}
	if err == nil {
		err = checkDPoPJKT(ar.GetRequestForm())
	}
	if err == nil {
		err = checkFAPIPush(ar)
	}
	var resp fosite.PushedAuthorizeResponder
	if err == nil {
		resp, err = h.fosite.NewPushedAuthorizeResponse(ctx, ar, NewSession(""))
	}
	if err != nil {
		h.writeError(c, ar, clientID, err)
		return
	}
	h.fosite.WritePushedAuthorizeResponse(ctx, c.Writer, ar, resp)
}

// newRequest is fosite's NewPushedAuthorizeRequest with a missing state
// allowed, as at the authorization endpoint (newAuthorizeRequest).
func (h *parEndpoint) newRequest(ctx context.Context, r *http.Request) (fosite.AuthorizeRequester, error) {
	ar, err := h.fosite.NewPushedAuthorizeRequest(ctx, r)
	if err != nil && ar != nil && ar.GetState() == "" && errors.Is(err, fosite.ErrInvalidState) {
		return ar, nil
	}
	return ar, err
}

// writeError answers a refused push in RFC 6749 §5.2 form (RFC 9126 §2.3).
func (h *parEndpoint) writeError(c *gin.Context, ar fosite.AuthorizeRequester, clientID string, err error) {
	if storeFailure(err) {
		h.log.Warn("pushed authorization request: store unavailable", "err", err)
		unavailable(c)
		return
	}
	e := fosite.ErrorToRFC6749Error(err)
	if e.ErrorField == fosite.ErrInvalidClient.ErrorField {
		if wait := h.auth.failed(c, clientID); wait > 0 {
			h.auth.slowDown(c, wait)
			return
		}
		c.Header("WWW-Authenticate", `Basic realm="keyward", charset="UTF-8"`)
		cp := *e
		cp.CodeField = http.StatusUnauthorized
		e = &cp
	}
	if e.CodeField >= 500 {
		h.log.Error("pushed authorization request failed", "err", err)
	}
	h.fosite.WritePushedAuthorizeError(c.Request.Context(), c.Writer, ar, e)
}

// pushedOnly keeps of an authorization request's parameters the two a
// request by reference to a pushed request has (RFC 9126 §4): the
// parameters of the pushed request are the ones used, and any other sent
// on the front channel, where they could have been altered, is ignored.
func pushedOnly(form url.Values) url.Values {
	front := url.Values{}
	for _, k := range []string{"client_id", "request_uri"} {
		if form.Has(k) {
			front.Set(k, form.Get(k))
		}
	}
	return front
}

// parBinding returns the function that binds a taken-up pushed request to
// the browser of r: an HMAC of the browser's CSRF cookie and the
// request's key. When the browser has no such cookie yet, one is set
// through w (nil: none can be set, and the request_uri cannot be taken
// up).
func (b *browserFlow) parBinding(w http.ResponseWriter, r *http.Request) func(string) string {
	value := ""
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 22 && len(c.Value) <= 64 {
		value = c.Value
	} else if w != nil {
		v, err := randomToken(18)
		if err != nil {
			return nil
		}
		b.setCookie(w, r, csrfCookie, v, csrfCookieTTL)
		value = v
	}
	if value == "" {
		return nil
	}
	return func(key string) string { return b.mac(b.csrfKey, "par", value, key) }
}

// equalMAC compares two MACs in constant time; an empty one never matches.
func equalMAC(a, b string) bool {
	return a != "" && hmac.Equal([]byte(a), []byte(b))
}

// errPARRequired is the answer to a front-channel authorization request
// for a client (or a server) that requires pushed authorization requests
// (RFC 9126 §6).
var errPARRequired = fosite.ErrInvalidRequest.WithHint("This client must push its authorization requests first: " +
	"POST them to the pushed_authorization_request_endpoint and send only client_id and the request_uri it returns (RFC 9126).")

// parRequired reports whether ar, sent on the front channel, should have
// been pushed.
func (b *browserFlow) parRequired(ar fosite.AuthorizeRequester) bool {
	if b.requirePAR {
		return true
	}
	fc, ok := ar.GetClient().(*fositeClient)
	return ok && fc.c.PARRequired || isFAPI2(ar.GetClient())
}

// consumePAR uses up the pushed request of ar, if it came from one, as the
// authorization response is sent: nil when ar is not a pushed request or
// this flow is the first to finish it.
func (b *browserFlow) consumePAR(ctx context.Context, ar fosite.AuthorizeRequester) error {
	uri := ar.GetRequestForm().Get("request_uri")
	if b.pushed == nil || !isPARRequestURI(uri) {
		return nil
	}
	if err := b.pushed.consumePAR(ctx, uri); err != nil {
		var pe *parError
		if errors.As(err, &pe) {
			return fosite.ErrInvalidRequestURI.WithHint(pe.Hint)
		}
		return err
	}
	return nil
}
