package authz

import (
	"context"
	"errors"
	"fmt"

	"github.com/ory/fosite"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/store"
)

// userGrantHandler refuses to issue tokens from a grant whose user has
// been disabled or deleted since it was granted: invalid_grant (RFC 6749
// §5.2, "the authorization grant … is invalid … or was issued to another
// client"). It runs after fosite's authorization-code and refresh-token
// handlers and the device-code handler have loaded the grant's session, and reads the user from the
// store every time, so disabling a user stops their refreshes at once on
// every instance.
type userGrantHandler struct {
	users interface {
		GetUser(ctx context.Context, id string) (*store.User, error)
	}
}

var _ fosite.TokenEndpointHandler = (*userGrantHandler)(nil)

// CanSkipClientAuth implements fosite.TokenEndpointHandler.
func (h *userGrantHandler) CanSkipClientAuth(context.Context, fosite.AccessRequester) bool {
	return false
}

// CanHandleTokenEndpointRequest implements fosite.TokenEndpointHandler:
// the grants that carry a user.
func (h *userGrantHandler) CanHandleTokenEndpointRequest(_ context.Context, r fosite.AccessRequester) bool {
	gt := r.GetGrantTypes()
	return gt.ExactOne(clients.GrantRefreshToken) || gt.ExactOne(clients.GrantAuthorizationCode) || gt.ExactOne(clients.GrantDeviceCode)
}

// HandleTokenEndpointRequest implements fosite.TokenEndpointHandler.
func (h *userGrantHandler) HandleTokenEndpointRequest(ctx context.Context, r fosite.AccessRequester) error {
	if !h.CanHandleTokenEndpointRequest(ctx, r) {
		return fosite.ErrUnknownRequest
	}
	sess, _ := r.GetSession().(*Session)
	if sess == nil || sess.UserID == "" {
		return nil
	}
	u, err := h.users.GetUser(ctx, sess.UserID)
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled):
		return fosite.ErrInvalidGrant.WithHint("The user of this grant is disabled or no longer exists.")
	case err != nil:
		return fosite.ErrTemporarilyUnavailable.WithWrap(err)
	}
	return nil
}

// PopulateTokenEndpointResponse implements fosite.TokenEndpointHandler;
// the grant's own handler issues the tokens.
func (h *userGrantHandler) PopulateTokenEndpointResponse(context.Context, fosite.AccessRequester, fosite.AccessResponder) error {
	return fosite.ErrUnknownRequest
}

// RevokeUser ends every grant of a user who was disabled or deleted: the
// jti of each JWT access token joins the revocation list (reaching every
// instance), and every code, access token and refresh token of the grant
// is deleted (RFC 7009 §2.1: revoking a grant reaches all its tokens).
// Stateless tokens of the token-exchange grant are not stored and run out
// on their own (15 minutes by default).
//
// First, in one transaction, each client with a backchannel_logout_uri
// that the user signed in to (a grant, or a browser session) is queued a
// logout token (OpenID Connect Back-Channel Logout 1.0; see
// backchannel.userEnded), and the user's browser sessions end.
func (p *Provider) RevokeUser(ctx context.Context, userID string) error {
	grants, err := p.cfg.Store.SubjectRequests(ctx, userID)
	if err != nil {
		return fmt.Errorf("authz: grants of user: %w", err)
	}
	var grantClients []string
	for _, id := range grants {
		for _, kind := range []store.TokenKind{store.KindRefreshToken, store.KindAccessToken} {
			recs, err := p.cfg.Store.ListRequest(ctx, kind, id)
			if err != nil {
				return fmt.Errorf("authz: grants of user: %w", err)
			}
			if len(recs) > 0 {
				grantClients = append(grantClients, recs[0].ClientID)
				break
			}
		}
	}
	if err := p.backchannel.userEnded(ctx, userID, grantClients); err != nil {
		return fmt.Errorf("authz: back-channel logout: %w", err)
	}
	for _, id := range grants {
		if err := p.store.RevokeAccessToken(ctx, id); err != nil {
			return fmt.Errorf("authz: revoke access tokens: %w", err)
		}
		if err := p.tokenWrites.DeleteRequest(ctx, id); err != nil {
			return fmt.Errorf("authz: revoke grant: %w", err)
		}
	}
	return nil
}
