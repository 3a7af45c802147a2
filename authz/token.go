package authz

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/ory/fosite"

	"github.com/keyward/keyward/authz/clients"
)

// tokenEndpoint is the token endpoint: fosite's token flow, the per-client
// rate limit and the refresh grace window around it.
type tokenEndpoint struct {
	oauth   fosite.OAuth2Provider
	auth    *clientAuth
	limits  *limiter
	refresh *refreshGrace
	clients *clients.Cache
	log     *slog.Logger
	obs     Observer
	// resources applies RFC 8707 resource parameters.
	resources *resourceIndicators
	// dpop checks DPoP proofs (RFC 9449); dpopHTU is this endpoint's URL.
	dpop    *dpopChecker
	dpopHTU string
}

// token is the token endpoint (RFC 6749 §3.2): client credentials,
// authorization code with PKCE, refresh token (rotated; reuse revokes the
// grant) and token exchange of an API key (RFC 8693). Every client error is
// a 4xx in RFC 6749 §5.2 form. Each answer is counted by the Observer,
// by grant type and error code.
func (h *tokenEndpoint) token(c *gin.Context) {
	h.respond(c)
	grant := grantLabel(c.Request.PostForm.Get("grant_type"))
	if c.Writer.Status() == http.StatusOK {
		h.obs.TokenIssued(grant)
		return
	}
	h.obs.TokenRefused(grant, errorLabel(c.GetString(LogErrorKey)))
}

// respond answers one token request.
func (h *tokenEndpoint) respond(c *gin.Context) {
	c.Request = withAuthMemo(c.Request)
	r := c.Request
	if !readForm(c) {
		return
	}
	clientID := claimedClient(r)
	if clientID == "" {
		// RFC 6749 §5.2: no client authentication included is
		// invalid_client (fosite would say invalid_request).
		c.Header("WWW-Authenticate", `Basic realm="keyward", charset="UTF-8"`)
		oauthError(c, http.StatusUnauthorized, "invalid_client", "Client authentication is required: HTTP Basic, client_id in the body, or a client_assertion.")
		return
	}
	if !h.auth.admit(c, clientID) {
		return
	}
	if h.limits.enabled() {
		ok, retry, remaining := h.limits.allow(h.limitKey(c, clientID))
		h.limits.headers(c.Writer.Header(), ok, retry, remaining)
		if !ok {
			h.obs.RateLimited(LimiterTokenEndpoint)
			oauthError(c, http.StatusTooManyRequests, "slow_down", "Too many token requests for this client; retry later.")
			return
		}
	}
	if r = h.tokenDPoP(c, h.dpopHTU); r == nil {
		return
	}
	c.Request = r
	issue := func() (int, []byte) { return h.issueToken(r.Context(), r, nil) }
	var (
		status int
		body   []byte
	)
	if r.PostForm.Get("grant_type") == clients.GrantRefreshToken && r.PostForm.Get("refresh_token") != "" && h.refresh.enabled() {
		// RFC 6749 §6: the client authenticates before the grace window
		// (or a rotation in flight) can share anything with it. Without a
		// window, fosite's own authentication in issue is all there is.
		if client, err := h.auth.authenticate(r.Context(), r, r.PostForm); err != nil {
			status, body = h.accessError(r.Context(), err)
		} else {
			jkt := ""
			if p := dpopProofFrom(r.Context()); p != nil {
				jkt = p.JKT
			}
			status, body = h.refresh.do(r.Context(), client.GetID(), jkt, r.PostForm.Get("refresh_token"), issue)
			if status == http.StatusOK {
				status, body = h.checkReplayScope(r.Context(), r.PostForm.Get("scope"), body)
			}
		}
	} else {
		// The answer is written below and kept nowhere (the refresh path
		// above keeps its answers for the grace window): it is made in a
		// pooled buffer.
		bp := scratchBuffers.Get().(*[]byte)
		defer scratchBuffers.Put(bp)
		status, body = h.issueToken(r.Context(), r, (*bp)[:0])
	}
	if status == http.StatusUnauthorized { // invalid_client, RFC 6749 §5.2
		if wait := h.auth.failed(c, clientID); wait > 0 {
			h.auth.slowDown(c, wait)
			return
		}
	}
	if status != http.StatusOK {
		noteError(c, errorCode(body))
	}
	hdr := c.Writer.Header()
	hdr["Content-Type"] = introspectionType // application/json;charset=UTF-8
	hdr["Cache-Control"] = noStore
	hdr["Pragma"] = noCache
	switch status {
	case http.StatusUnauthorized:
		hdr.Set("WWW-Authenticate", `Basic realm="keyward", charset="UTF-8"`)
	case http.StatusServiceUnavailable:
		hdr.Set("Retry-After", retryAfter)
	}
	c.Writer.WriteHeader(status)
	c.Writer.Write(body)
}

// issueToken runs fosite's token flow and returns the response it wrote;
// a successful one is appended to dst (nil: a buffer of its own).
func (h *tokenEndpoint) issueToken(ctx context.Context, r *http.Request, dst []byte) (int, []byte) {
	sess := NewSession("")
	gen := h.auth.cache.Generation()
	ar, err := h.oauth.NewAccessRequest(ctx, r, sess)
	if err != nil && h.auth.stale(r, err, gen) {
		sess = NewSession("")
		ar, err = h.oauth.NewAccessRequest(ctx, r, sess)
	}
	if err != nil {
		if g := r.PostForm.Get("grant_type"); g != "" && !supportedGrant(g) && errors.Is(err, fosite.ErrInvalidRequest) {
			// fosite says invalid_request when no handler takes the grant.
			err = fosite.ErrUnsupportedGrantType.WithHint("Supported grant types: authorization_code, client_credentials, refresh_token, token exchange, device_code.")
		} else if ar != nil && authenticated(ar) && ar.GetGrantTypes().ExactOne(clients.GrantClientCredentials) &&
			!ar.GetClient().GetGrantTypes().Has(clients.GrantClientCredentials) {
			// RFC 6749 §5.2: the client is authenticated but not allowed
			// the grant (fosite says invalid_grant for a public client).
			err = fosite.ErrUnauthorizedClient.WithHint("The client is not allowed to use the client_credentials grant.")
		} else {
			err = refreshTargetError(ar, err)
		}
		return h.requestError(ctx, ar, err)
	}
	if ar.GetGrantTypes().ExactOne(clients.GrantClientCredentials) {
		requested := ar.GetRequestedScopes()
		if len(requested) == 0 {
			// RFC 6749 §3.3: no scope asked means the client's default, all of them.
			requested = ar.GetClient().GetScopes()
		}
		for _, s := range requested {
			ar.GrantScope(s)
		}
		// fosite checked the audience against the client's; granting it is ours.
		grantAudience(ar)
		sess.Subject = ar.GetClient().GetID()
	}
	if ar.GetGrantTypes().ExactOne(clients.GrantRefreshToken) {
		// RFC 6749 §6: the scope asked for MUST NOT include any scope not
		// originally granted (fosite ignores the parameter). A narrower
		// scope is answered with the grant's whole scope, which the
		// response's scope parameter says.
		if err := checkRefreshScope(r.PostForm.Get("scope"), ar.GetGrantedScopes()); err != nil {
			return h.requestError(ctx, ar, err)
		}
	}
	if err := h.resources.token(ctx, ar, r.PostForm.Get("scope") != ""); err != nil {
		return h.requestError(ctx, ar, err)
	}
	resp, err := h.oauth.NewAccessResponse(ctx, ar)
	if err != nil {
		return h.requestError(ctx, ar, err)
	}
	body, ok := accessResponseJSON(dst, resp.ToMap())
	if !ok {
		// A member accessResponseJSON does not write: fosite's own writer.
		w := &bufferWriter{header: http.Header{}, status: http.StatusOK}
		h.oauth.WriteAccessResponse(ctx, w, ar, resp)
		return w.status, w.body.Bytes()
	}
	return http.StatusOK, body
}

// requestError renders err about the token request ar as a
// token-endpoint error (writeAccessError).
func (h *tokenEndpoint) requestError(ctx context.Context, ar fosite.AccessRequester, err error) (int, []byte) {
	w := &bufferWriter{header: http.Header{}, status: http.StatusOK}
	h.writeAccessError(ctx, w, ar, err)
	return w.status, w.body.Bytes()
}

// authenticated reports whether fosite authenticated the client of ar
// (it leaves an empty placeholder client when authentication fails).
func authenticated(ar fosite.AccessRequester) bool {
	c := ar.GetClient()
	return c != nil && c.GetID() != ""
}

// writeAccessError renders err as a token-endpoint error (RFC 6749 §5.2),
// or as 503 temporarily_unavailable when it is a store failure: an
// unreachable database must not look like a bad client or grant.
func (h *tokenEndpoint) writeAccessError(ctx context.Context, w http.ResponseWriter, ar fosite.AccessRequester, err error) {
	if storeFailure(err) {
		h.log.Warn("token endpoint: store unavailable", "err", err)
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":"temporarily_unavailable","error_description":"The service is temporarily unavailable; retry shortly."}`))
		return
	}
	h.oauth.WriteAccessError(ctx, w, ar, err)
}

// accessError renders err as a token-endpoint error (RFC 6749 §5.2).
func (h *tokenEndpoint) accessError(ctx context.Context, err error) (int, []byte) {
	return h.requestError(ctx, nil, err)
}

// readForm parses a POST form body of at most 1 MiB of UTF-8, answering
// 413 or 400 in RFC 6749 §5.2 form when it cannot.
func readForm(c *gin.Context) bool {
	r := c.Request
	if r.Method != http.MethodPost {
		oauthError(c, http.StatusMethodNotAllowed, "invalid_request", "Use POST.")
		return false
	}
	if !parseCappedForm(c) {
		return false
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		oauthError(c, http.StatusBadRequest, "invalid_request", "Content-Type must be application/x-www-form-urlencoded.")
		return false
	}
	if !validUTF8Form(r) {
		oauthError(c, http.StatusBadRequest, "invalid_request", "The request is not valid UTF-8.")
		return false
	}
	if msg := formProblem(r); msg != "" {
		oauthError(c, http.StatusBadRequest, "invalid_request", msg)
		return false
	}
	if h := r.Header.Get("Authorization"); h != "" {
		if _, _, ok := rawBasic(r); !ok {
			// RFC 6749 §5.2: failed client authentication is invalid_client, 401.
			c.Header("WWW-Authenticate", `Basic realm="keyward", charset="UTF-8"`)
			oauthError(c, http.StatusUnauthorized, "invalid_client", "The Authorization header is not valid HTTP Basic authentication.")
			return false
		}
	}
	return true
}

// limitKey is the rate-limit bucket of a token request: the client's own
// only when the request authenticates as that client with its secret
// (fosite's client authentication, whose success the request's authMemo
// keeps for fosite's own look: the secret is checked once), so nobody can
// spend a client's budget by naming it. Public clients share a bucket per
// address; failed credentials, and client assertions (whose jti is
// spent only once the request is admitted), are counted per address.
func (h *tokenEndpoint) limitKey(c *gin.Context, clientID string) string {
	r := c.Request
	fc, err := h.clients.Get(r.Context(), clientID)
	switch {
	case err != nil:
		return "ip:" + c.ClientIP()
	case fc.Public:
		return "public:" + clientID + "|" + c.ClientIP()
	}
	form := r.PostForm
	if form.Has("client_assertion") || form.Has("client_assertion_type") {
		return "ip:" + c.ClientIP()
	}
	if _, _, basic := rawBasic(r); !basic && !form.Has("client_secret") {
		return "ip:" + c.ClientIP()
	}
	if client, err := h.auth.fosite.AuthenticateClient(r.Context(), r, form); err == nil && client.GetID() == clientID {
		return "client:" + clientID
	}
	return "ip:" + c.ClientIP()
}

// claimedClient is the client id a request names (not yet authenticated):
// HTTP Basic, client_id, or the sub of a client assertion (RFC 7523 §3).
func claimedClient(r *http.Request) string {
	if id, _, ok := basicCredentials(r); ok {
		return id
	}
	if id := r.PostForm.Get("client_id"); id != "" {
		return id
	}
	return assertionSubject(r.PostForm.Get("client_assertion"))
}

// basicCredentials returns the client id and secret of an HTTP Basic
// Authorization header, each form-decoded first as RFC 6749 §2.3.1 has
// clients encode them (a part that does not decode is taken as sent).
func basicCredentials(r *http.Request) (id, secret string, ok bool) {
	id, secret, ok = rawBasic(r)
	if !ok {
		return "", "", false
	}
	if dec, err := url.QueryUnescape(id); err == nil {
		id = dec
	}
	if dec, err := url.QueryUnescape(secret); err == nil {
		secret = dec
	}
	return id, secret, true
}

// rawBasic is http.Request.BasicAuth: the HTTP Basic credentials as sent.
// The token endpoint asks several times per request (form checks, claimed
// client, rate-limit key, client authentication): with the request's
// authMemo the header is decoded once.
func rawBasic(r *http.Request) (id, secret string, ok bool) {
	memo, _ := r.Context().Value(authMemoKey{}).(*authMemo)
	if memo == nil {
		return ParseBasic(r.Header.Get("Authorization"))
	}
	if !memo.basicRead {
		memo.basic.id, memo.basic.secret, memo.basic.ok = ParseBasic(r.Header.Get("Authorization"))
		memo.basicRead = true
	}
	return memo.basic.id, memo.basic.secret, memo.basic.ok
}

// BasicUser is the user-id of r's HTTP Basic credentials as sent
// (ParseBasic, not form-decoded), for the access log: a request whose
// client authentication decoded the header already (its authMemo) is
// not decoded again.
func BasicUser(r *http.Request) (string, bool) {
	id, _, ok := rawBasic(r)
	return id, ok
}

// oauthError writes an RFC 6749 §5.2 error.
func oauthError(c *gin.Context, status int, code, desc string) {
	noteError(c, code)
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(status, gin.H{"error": code, "error_description": desc})
}

// bufferWriter captures a response so it can be replayed (refresh grace).
type bufferWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *bufferWriter) Header() http.Header         { return w.header }
func (w *bufferWriter) Write(b []byte) (int, error) { return w.body.Write(b) }
func (w *bufferWriter) WriteHeader(status int)      { w.status = status }

var _ http.ResponseWriter = (*bufferWriter)(nil)

// checkReplayScope holds an answer shared from the refresh grace window to
// RFC 6749 §6 as a fresh rotation is (checkRefreshScope), against the
// scope the answer names.
func (h *tokenEndpoint) checkReplayScope(ctx context.Context, asked string, body []byte) (int, []byte) {
	if asked == "" {
		return http.StatusOK, body
	}
	var ans struct {
		Scope string `json:"scope"`
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		return http.StatusOK, body
	}
	if err := checkRefreshScope(asked, strings.Fields(ans.Scope)); err != nil {
		return h.accessError(ctx, err)
	}
	return http.StatusOK, body
}

// checkRefreshScope is RFC 6749 §6: the scope a refresh asks for must not
// include any scope the grant does not hold (invalid_scope).
func checkRefreshScope(asked string, granted fosite.Arguments) error {
	for _, s := range strings.Fields(asked) {
		if !granted.Has(s) {
			return fosite.ErrInvalidScope.WithHintf("The scope %q was not granted to this refresh token.", s)
		}
	}
	return nil
}
