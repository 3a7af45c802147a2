package authz

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
	"github.com/ory/fosite"

	"github.com/keyward/keyward/authz/clients"
)

// clientAuth authenticates clients (RFC 6749 §2.3) for the token,
// introspection, revocation and API-key verification endpoints: fosite's
// client authentication against the client cache.
type clientAuth struct {
	fosite *fosite.Fosite
	cache  *clients.Cache
}

// authenticate is fosite's client authentication, tried once more with the
// client read afresh when it fails for a client cached a while ago
// (clients.Cache.DropStale): a secret rotated by another process (a
// management command on the same SQLite file, heard of only at the next
// change poll) is honoured at once.
func (a *clientAuth) authenticate(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
	client, err := a.fosite.AuthenticateClient(ctx, r, form)
	if err != nil && !storeFailure(err) && a.cache.DropStale(claimedClient(r)) {
		client, err = a.fosite.AuthenticateClient(ctx, r, form)
	}
	return client, err
}

// stale reports whether err is a client-authentication failure for a
// client cached a while ago (and now dropped), so the request deserves
// one more try.
func (a *clientAuth) stale(r *http.Request, err error) bool {
	return errors.Is(err, fosite.ErrInvalidClient) && !storeFailure(err) && a.cache.DropStale(claimedClient(r))
}

// require authenticates the calling client from form (client_secret_post)
// or the Authorization header (client_secret_basic); with confidential it
// refuses public clients. On failure it answers 401 invalid_client, or 503
// when the store could not be read (never invalid_client for an outage),
// and returns false.
func (a *clientAuth) require(c *gin.Context, form url.Values, confidential bool) (fosite.Client, bool) {
	r := c.Request
	client, err := a.authenticate(r.Context(), r, form)
	switch {
	case err != nil && storeFailure(err):
		unavailable(c)
		return nil, false
	case err != nil || (confidential && client.IsPublic()):
		c.Header("WWW-Authenticate", `Basic realm="keyward", charset="UTF-8"`)
		oauthError(c, http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
		return nil, false
	}
	return client, true
}
