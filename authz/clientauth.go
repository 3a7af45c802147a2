package authz

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/ory/fosite"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/store"
)

// clientAuth authenticates clients (RFC 6749 §2.3) for the token,
// introspection, revocation and API-key verification endpoints: fosite's
// client authentication against the client cache, with failures
// throttled (authThrottle) and audited.
type clientAuth struct {
	fosite   *fosite.Fosite
	cache    *clients.Cache
	throttle *authThrottle
	auditor  *store.Auditor // nil: failures are not audited
	obs      Observer
}

// authenticate is fosite's client authentication, tried once more when it
// fails for a client that may have changed under it (stale): a secret
// rotated by another process (a management command on the same SQLite
// file, heard of only at the next change poll) is honoured at once.
func (a *clientAuth) authenticate(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
	gen := a.cache.Generation()
	client, err := a.fosite.AuthenticateClient(ctx, r, form)
	if err != nil && a.retry(ctx, r, err, gen) {
		client, err = a.fosite.AuthenticateClient(ctx, r, form)
	}
	return client, err
}

// stale reports whether err, from a flow that authenticated the client
// after the cache was at generation gen, is a client-authentication
// failure worth one more try.
func (a *clientAuth) stale(r *http.Request, err error, gen uint64) bool {
	return errors.Is(err, fosite.ErrInvalidClient) && a.retry(r.Context(), r, err, gen)
}

// retry reports whether a failed authentication may have judged a client
// the cache has since changed: a client was invalidated after the cache
// stood at gen (the entry read may be the one dropped, say the secret
// before a rotation another instance announced), or the client was cached
// a while ago and has just been read afresh (clients.Cache.Reread). A
// store failure is never retried.
func (a *clientAuth) retry(ctx context.Context, r *http.Request, err error, gen uint64) bool {
	if storeFailure(err) {
		return false
	}
	return a.cache.Generation() != gen || a.cache.Reread(ctx, claimedClient(r))
}

// require authenticates the calling client from form (client_secret_post)
// or the Authorization header (client_secret_basic); with confidential it
// refuses public clients. On failure it answers 401 invalid_client (429
// once the caller failed too often, see admit and failed), or 503 when
// the store could not be read (never invalid_client for an outage), and
// returns false.
func (a *clientAuth) require(c *gin.Context, form url.Values, confidential bool) (fosite.Client, bool) {
	// fosite may authenticate the request again (revocation): the same
	// client assertion must not then count as a replay. Without one, the
	// memo would never be read.
	if form.Has("client_assertion") {
		c.Request = withAuthMemo(c.Request)
	}
	r := c.Request
	if !a.throttle.idle() && !a.admit(c, claimedClient(r)) {
		return nil, false
	}
	client, err := a.authenticate(r.Context(), r, form)
	switch {
	case err != nil && storeFailure(err):
		unavailable(c)
		return nil, false
	case err != nil || (confidential && client.IsPublic()):
		if wait := a.failed(c, claimedClient(r)); wait > 0 {
			a.slowDown(c, wait)
			return nil, false
		}
		c.Header("WWW-Authenticate", `Basic realm="keyward", charset="UTF-8"`)
		oauthError(c, http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
		return nil, false
	}
	return client, true
}

// admit runs before the credentials of clientID (the id a request names,
// "" for none) are read: while its caller's address, or that client id at
// that address, has failed too often, it answers 429 with Retry-After and
// returns false. While no address is held back it costs one atomic load.
func (a *clientAuth) admit(c *gin.Context, clientID string) bool {
	if a.throttle.idle() {
		return true
	}
	if wait := a.throttle.hold(clientID, accounts.AddressKey(c.ClientIP())); wait > 0 {
		a.slowDown(c, wait)
		return false
	}
	return true
}

// failed records a failed authentication naming clientID: it counts it
// against the caller's address and the client id, audits it (at most one
// client.authentication_failed event per client id and minute, and one
// for all unknown ids), and returns how long the caller must wait: 0 to
// answer the failure as such (401 invalid_client), more to answer 429.
func (a *clientAuth) failed(c *gin.Context, clientID string) time.Duration {
	ip := c.ClientIP()
	wait := a.throttle.fail(clientID, accounts.AddressKey(ip))
	if a.auditor == nil {
		return wait
	}
	ctx := c.Request.Context()
	subject := ""
	if clientID != "" {
		if _, err := a.cache.Get(ctx, clientID); err == nil {
			subject = clientID
		}
	}
	n, due := a.throttle.auditDue(subject)
	if !due {
		return wait
	}
	data := map[string]any{"address": ip, "endpoint": c.Request.URL.Path, "failures": n, "throttled": wait > 0}
	if subject == "" && clientID != "" {
		// An id no client has, chosen by the caller: kept short.
		data["claimed_client_id"] = strings.ToValidUTF8(clientID[:min(len(clientID), 64)], "")
	}
	_ = a.auditor.Record(ctx, "client.authentication_failed", subject, data)
	return wait
}

// slowDown answers 429 (RFC 6585 §4) with Retry-After and an RFC 6749
// §5.2 error body, for a caller whose client authentication failed too
// often: slow_down, the code a client already honours at the token
// endpoint (RFC 8628 §3.5, and Keyward's per-client rate limit).
func (a *clientAuth) slowDown(c *gin.Context, wait time.Duration) {
	a.obs.RateLimited(LimiterClientAuth)
	secs := strconv.Itoa(max(1, int(math.Ceil(wait.Seconds()))))
	c.Header("Retry-After", secs)
	oauthError(c, http.StatusTooManyRequests, "slow_down",
		"Client authentication failed too often; retry after "+secs+" seconds.")
}
