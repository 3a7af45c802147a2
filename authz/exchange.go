package authz

import (
	"context"
	"slices"
	"time"

	"github.com/ory/fosite"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/keys"
)

// Token types of RFC 8693 §3 and Keyward's own for API keys.
const (
	TokenTypeAPIKey      = "urn:keyward:token-type:api_key"
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
)

// tokenExchangeHandler exchanges an API key for a short-lived JWT access
// token (RFC 8693): scope at most the key's, subject the key's owner. Any
// confidential client may exchange; the exchange counts against the key's
// rate limit like a verification.
type tokenExchangeHandler struct{ p *Provider }

var _ fosite.TokenEndpointHandler = (*tokenExchangeHandler)(nil)

type exchangeResult struct{ key *keys.APIKey }

// CanSkipClientAuth implements fosite.TokenEndpointHandler.
func (h *tokenExchangeHandler) CanSkipClientAuth(context.Context, fosite.AccessRequester) bool {
	return false
}

// CanHandleTokenEndpointRequest implements fosite.TokenEndpointHandler.
func (h *tokenExchangeHandler) CanHandleTokenEndpointRequest(_ context.Context, r fosite.AccessRequester) bool {
	return r.GetGrantTypes().ExactOne(clients.GrantTokenExchange)
}

// HandleTokenEndpointRequest implements fosite.TokenEndpointHandler: it
// validates the subject token and decides scope, audience and lifetime.
func (h *tokenExchangeHandler) HandleTokenEndpointRequest(ctx context.Context, r fosite.AccessRequester) error {
	if !h.CanHandleTokenEndpointRequest(ctx, r) {
		return fosite.ErrUnknownRequest
	}
	if r.GetClient().IsPublic() {
		return fosite.ErrInvalidClient.WithHint("Token exchange needs a confidential client.")
	}
	if !r.GetClient().GetGrantTypes().Has(clients.GrantTokenExchange) {
		// RFC 6749 §5.2: authenticated, but not registered for the grant.
		return fosite.ErrUnauthorizedClient.WithHintf("The client is not registered for the %s grant.", clients.GrantTokenExchange)
	}
	form := r.GetRequestForm()
	if form.Get("subject_token_type") != TokenTypeAPIKey {
		return fosite.ErrInvalidRequest.WithHintf("subject_token_type must be %s.", TokenTypeAPIKey)
	}
	if tt := form.Get("requested_token_type"); tt != "" && tt != TokenTypeAccessToken {
		return fosite.ErrInvalidRequest.WithHintf("requested_token_type must be %s.", TokenTypeAccessToken)
	}
	if form.Get("actor_token") != "" {
		return fosite.ErrInvalidRequest.WithHint("Delegation (actor_token) is not supported.")
	}
	raw := form.Get("subject_token")
	if raw == "" || h.p.cfg.APIKeys == nil {
		return fosite.ErrInvalidGrant.WithHint("The subject token is not a valid API key.")
	}
	res, err := h.p.cfg.APIKeys.Verify(ctx, raw, "")
	if err != nil {
		return &unavailableError{err}
	}
	if res.Code == keys.CodeRateLimited {
		return fosite.ErrInvalidGrant.WithHint("The API key is over its rate limit.")
	}
	if !res.Valid || res.Key == nil {
		return fosite.ErrInvalidGrant.WithHint("The subject token is not a valid API key.")
	}
	key := res.Key
	requested := r.GetRequestedScopes()
	if len(requested) == 0 {
		requested = key.Scopes
	}
	for _, s := range requested {
		if !slices.Contains(key.Scopes, s) {
			return fosite.ErrInvalidScope.WithHintf("The API key does not carry scope '%s'.", s)
		}
		r.GrantScope(s)
	}
	if err := h.p.fcfg.GetAudienceStrategy(ctx)(r.GetClient().GetAudience(), r.GetRequestedAudience()); err != nil {
		return err
	}
	grantAudience(r)
	now := h.p.cfg.Now().UTC()
	exp := now.Add(h.p.cfg.ExchangeTTL)
	if !key.ExpiresAt.IsZero() && key.ExpiresAt.Before(exp) {
		exp = key.ExpiresAt
	}
	sess, _ := r.GetSession().(*Session)
	if sess == nil {
		return fosite.ErrServerError.WithHint("missing session")
	}
	sess.Subject = apiKeySubject(key)
	sess.Kind = "api_key_exchange"
	sess.APIKey = res.Binding
	sess.SetExpiresAt(fosite.AccessToken, exp.Truncate(time.Second))
	return nil
}

// PopulateTokenEndpointResponse implements fosite.TokenEndpointHandler: a
// JWT access token whatever the client's token format, never stored.
func (h *tokenExchangeHandler) PopulateTokenEndpointResponse(ctx context.Context, r fosite.AccessRequester, resp fosite.AccessResponder) error {
	if !h.CanHandleTokenEndpointRequest(ctx, r) {
		return fosite.ErrUnknownRequest
	}
	sess := r.GetSession().(*Session)
	token, jti, err := h.p.strategy.signAccessToken(ctx, r, sess)
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	sess.AccessJTI, sess.AccessFormat = jti, "jwt"
	resp.SetAccessToken(token)
	resp.SetTokenType("bearer") // as fosite writes it for the other grants
	resp.SetExpiresIn(time.Until(sess.GetExpiresAt(fosite.AccessToken)).Round(time.Second))
	resp.SetScopes(r.GetGrantedScopes())
	resp.SetExtra("issued_token_type", TokenTypeAccessToken)
	return nil
}
