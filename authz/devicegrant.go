package authz

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/storage"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/store"
)

// The token endpoint's answers while a device grant is not ready (RFC
// 8628 §3.5), each 400 as RFC 6749 §5.2 has it.
var (
	errAuthorizationPending = &fosite.RFC6749Error{ErrorField: "authorization_pending", CodeField: http.StatusBadRequest,
		DescriptionField: "The user has not yet approved or denied the request; keep polling."}
	errSlowDown = &fosite.RFC6749Error{ErrorField: "slow_down", CodeField: http.StatusBadRequest,
		DescriptionField: "The device polls faster than the interval, which has been increased by 5 seconds."}
	errExpiredToken = &fosite.RFC6749Error{ErrorField: "expired_token", CodeField: http.StatusBadRequest,
		DescriptionField: "The device code has expired; start a new device authorization request."}
	errDeviceDenied = &fosite.RFC6749Error{ErrorField: "access_denied", CodeField: http.StatusBadRequest,
		DescriptionField: "The user denied the request."}
)

// pollSlack is how much sooner than the interval a poll may arrive before
// it counts as too fast: a client that waits the interval between its
// requests still sees them arrive a little closer together now and then.
const pollSlack = time.Second

// deviceGrantHandler is the device_code grant at the token endpoint (RFC
// 8628 §3.4–3.5) as a fosite handler, since fosite v0.49 has none. Each
// poll is recorded; until the person decides, the answer is
// authorization_pending, or slow_down for a poll that came too soon (the
// interval then grows by 5 seconds). A denial is access_denied, an expired
// code expired_token. An approved grant issues its tokens once: the
// access token, a refresh token when the client may refresh, and an ID
// token when openid was granted, as the authorization code grant does; a
// second redemption is invalid_grant. The user of the grant is checked by
// userGrantHandler, after this one.
//
// The access token of a device grant is never stateless: like the
// authorization code grant's, it is stored with the grant's request id,
// so revoking the grant or disabling the user reaches it.
type deviceGrantHandler struct {
	store    Store
	codes    deviceCodes
	now      func() time.Time
	issuer   string
	strategy *tokenStrategy
	storage  *fositeStore
	config   interface {
		fosite.AccessTokenLifespanProvider
		fosite.RefreshTokenLifespanProvider
		fosite.IDTokenLifespanProvider
		fosite.RefreshTokenScopesProvider
	}
	idTokens *openid.IDTokenHandleHelper
}

var _ fosite.TokenEndpointHandler = (*deviceGrantHandler)(nil)

// CanSkipClientAuth implements fosite.TokenEndpointHandler: a public
// client names itself with client_id, a confidential one authenticates.
func (h *deviceGrantHandler) CanSkipClientAuth(context.Context, fosite.AccessRequester) bool {
	return false
}

// CanHandleTokenEndpointRequest implements fosite.TokenEndpointHandler.
func (h *deviceGrantHandler) CanHandleTokenEndpointRequest(_ context.Context, r fosite.AccessRequester) bool {
	return r.GetGrantTypes().ExactOne(clients.GrantDeviceCode)
}

// HandleTokenEndpointRequest implements fosite.TokenEndpointHandler: it
// records the poll and, for an approved grant, loads its user, scopes and
// audience into the request.
func (h *deviceGrantHandler) HandleTokenEndpointRequest(ctx context.Context, r fosite.AccessRequester) error {
	if !h.CanHandleTokenEndpointRequest(ctx, r) {
		return fosite.ErrUnknownRequest
	}
	client := r.GetClient()
	if !client.GetGrantTypes().Has(clients.GrantDeviceCode) {
		return fosite.ErrUnauthorizedClient.WithHintf("The client is not registered for the %s grant.", clients.GrantDeviceCode)
	}
	code := r.GetRequestForm().Get("device_code")
	if code == "" {
		return fosite.ErrInvalidRequest.WithHint("The device_code parameter is missing.")
	}
	if !deviceCodeShaped(code) {
		return fosite.ErrInvalidGrant.WithHint("The device code is not valid.")
	}
	now := h.now().UTC()
	g, slow, err := h.store.PollDeviceGrant(ctx, h.codes.deviceDigest(code), now, pollSlack)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fosite.ErrInvalidGrant.WithHint("The device code is not valid.")
	case err != nil:
		return &unavailableError{err}
	case g.ClientID != client.GetID():
		// RFC 6749 §5.2: issued to another client.
		return fosite.ErrInvalidGrant.WithHint("The device code is not valid.")
	case g.Status == store.DeviceRedeemed:
		return fosite.ErrInvalidGrant.WithHint("The device code has already been used.")
	case !now.Before(g.ExpiresAt):
		return errExpiredToken
	case g.Status == store.DeviceDenied:
		return errDeviceDenied
	case g.Status == store.DevicePending && slow:
		return errSlowDown
	case g.Status == store.DevicePending:
		return errAuthorizationPending
	case g.Status != store.DeviceApproved || g.UserID == "":
		return fosite.ErrServerError.WithDebugf("device grant in state %q", g.Status)
	}
	r.SetRequestedScopes(g.Scopes)
	r.SetRequestedAudience(g.Audience)
	for _, s := range g.Scopes {
		r.GrantScope(s)
	}
	for _, a := range g.Audience {
		r.GrantAudience(a)
	}
	r.SetSession(h.session(ctx, r, g, now))
	return nil
}

// session is the grant's session: the user who approved it, and the ID
// token claims of that sign-in (auth_time) and of the device's request.
func (h *deviceGrantHandler) session(ctx context.Context, r fosite.AccessRequester, g *store.DeviceGrant, now time.Time) *Session {
	sess := NewSession(g.UserID)
	sess.UserID = g.UserID
	// The grant's RFC 8707 resources: the token request gets them (or
	// the ones it names among them), and so do its refreshes.
	sess.GrantResources = g.Resources
	claims := sess.IDTokenClaims()
	claims.Subject = g.UserID
	claims.Issuer = h.issuer
	claims.AuthTime = g.AuthTime.UTC().Truncate(time.Second)
	claims.RequestedAt = g.CreatedAt.UTC()
	if claims.AuthTime.After(claims.RequestedAt) {
		claims.RequestedAt = claims.AuthTime
	}
	alg := DefaultIDTokenAlg
	if fc, ok := r.GetClient().(*fositeClient); ok && fc.c.IDTokenAlg != "" {
		alg = fc.c.IDTokenAlg
	}
	sess.IDTokenHeaders().Add("alg", alg)
	sess.SetExpiresAt(fosite.AccessToken, now.Add(h.config.GetAccessTokenLifespan(ctx)).Round(time.Second))
	sess.SetExpiresAt(fosite.RefreshToken, now.Add(h.config.GetRefreshTokenLifespan(ctx)).Round(time.Second))
	return sess
}

// PopulateTokenEndpointResponse implements fosite.TokenEndpointHandler:
// the tokens are written in one transaction (fositetx.go), then the grant
// is redeemed, so of two polls racing only one gets tokens (the other's,
// never sent, are deleted again), and a database lost before the
// redemption leaves the grant approved for the device's next poll.
func (h *deviceGrantHandler) PopulateTokenEndpointResponse(ctx context.Context, r fosite.AccessRequester, resp fosite.AccessResponder) error {
	if !h.CanHandleTokenEndpointRequest(ctx, r) {
		return fosite.ErrUnknownRequest
	}
	access, accessSig, err := h.strategy.GenerateAccessToken(ctx, r)
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	var refresh, refreshSig string
	if h.canRefresh(ctx, r) {
		if refresh, refreshSig, err = h.strategy.GenerateRefreshToken(ctx, r); err != nil {
			return fosite.ErrServerError.WithWrap(err)
		}
	}
	resp.SetAccessToken(access)
	resp.SetTokenType("bearer")
	resp.SetExpiresIn(time.Until(r.GetSession().GetExpiresAt(fosite.AccessToken)).Round(time.Second))
	resp.SetScopes(r.GetGrantedScopes())
	if refresh != "" {
		resp.SetExtra("refresh_token", refresh)
	}
	if r.GetGrantedScopes().Has("openid") {
		sess := r.GetSession().(*Session)
		sess.IDTokenClaims().AccessTokenHash = h.idTokens.GetAccessTokenHash(ctx, r, resp)
		if err := h.idTokens.IssueExplicitIDToken(ctx, h.config.GetIDTokenLifespan(ctx), r, resp); err != nil {
			return fosite.ErrServerError.WithWrap(err)
		}
	}
	if err := h.saveTokens(ctx, r, accessSig, refreshSig); err != nil {
		return err
	}
	switch err := h.store.RedeemDeviceGrant(ctx, h.codes.deviceDigest(r.GetRequestForm().Get("device_code")), h.now().UTC()); {
	case errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound):
		// Another poll won, or the grant went with its client or user:
		// the tokens just written were never sent.
		if derr := h.storage.tokens.DeleteRequest(ctx, r.GetID()); derr != nil && !errors.Is(derr, store.ErrNotFound) {
			return &unavailableError{derr}
		}
		return fosite.ErrInvalidGrant.WithHint("The device code has already been used.")
	case err != nil:
		return &unavailableError{err}
	}
	return nil
}

// saveTokens writes the access token's and the refresh token's records in
// one transaction.
func (h *deviceGrantHandler) saveTokens(ctx context.Context, r fosite.AccessRequester, accessSig, refreshSig string) (err error) {
	if ctx, err = storage.MaybeBeginTx(ctx, h.storage); err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	defer func() {
		if err != nil {
			_ = storage.MaybeRollbackTx(ctx, h.storage)
		}
	}()
	if err = h.storage.CreateAccessTokenSession(ctx, accessSig, r.Sanitize(nil)); err != nil {
		return err
	}
	if refreshSig != "" {
		if err = h.storage.CreateRefreshTokenSession(ctx, refreshSig, accessSig, r.Sanitize(nil)); err != nil {
			return err
		}
	}
	return storage.MaybeCommitTx(ctx, h.storage)
}

// canRefresh is the authorization code grant's rule: a refresh token for
// a client allowed the refresh_token grant, if the granted scopes hold one
// of the configured refresh scopes (none are configured: every such
// client gets one).
func (h *deviceGrantHandler) canRefresh(ctx context.Context, r fosite.AccessRequester) bool {
	if scopes := h.config.GetRefreshTokenScopes(ctx); len(scopes) > 0 && !r.GetGrantedScopes().HasOneOf(scopes...) {
		return false
	}
	return r.GetClient().GetGrantTypes().Has(clients.GrantRefreshToken)
}
