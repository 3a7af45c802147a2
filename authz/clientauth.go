package authz

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/ory/fosite"
)

// authenticateClient is fosite's client authentication (RFC 6749 §2.3)
// against the client cache, tried once more with the client read afresh
// when it fails for a client cached a while ago (clients.Cache.DropStale): a
// secret rotated by another process (a management command on the same
// SQLite file, heard of only at the next change poll) is honoured at once.
func (p *Provider) authenticateClient(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
	client, err := p.fosite.AuthenticateClient(ctx, r, form)
	if err != nil && p.clientCache.DropStale(claimedClient(r)) {
		client, err = p.fosite.AuthenticateClient(ctx, r, form)
	}
	return client, err
}

// staleClient reports whether err is a client-authentication failure for
// a client cached a while ago (and now dropped), so the request deserves
// one more try.
func (p *Provider) staleClient(r *http.Request, err error) bool {
	return errors.Is(err, fosite.ErrInvalidClient) && p.clientCache.DropStale(claimedClient(r))
}
