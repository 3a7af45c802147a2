package authz

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/ory/fosite"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/authz/resources"
	"github.com/keyward/keyward/store"
)

// Resource indicators (RFC 8707) on the authorization and token
// endpoints, for every grant:
//
//   - each resource must be an absolute URI without a fragment (§2), and
//     one the client may ask for (resources.Allowed: a registered
//     resource unless the client's own list leaves it out, or one in that
//     list); otherwise invalid_target;
//   - the access token's aud is exactly the requested resources, plus
//     any Hydra-style audience the request also named (the client's
//     default --audience values and the client id are not added);
//   - scopes: a token for resources that registered scopes may carry
//     only those scopes and the OpenID Connect ones
//     (resources.Set.Accepts). A scope the client asked for outside them
//     is invalid_scope; when it asked for none (client credentials, token
//     exchange), the default is narrowed to them instead;
//   - an authorization grant (code and refresh token) remembers the
//     resources granted at authorization (Session.GrantResources). A token
//     request of that grant may name a subset (§2.2: narrowing the access
//     token) but nothing outside; without resource it gets them all. A
//     narrowed refresh does not narrow the grant: the next refresh may ask
//     for any of the resources granted at authorization again;
//   - a grant naming a resource that is no longer allowed (deleted, or
//     left out of the client's list since) is invalid_target on its next
//     token request, whichever of its resources that request names: the
//     client authorizes again.
//
// The audience parameter keeps its meaning: values the client's
// --audience list allows (matchAudience), never a resource merely
// registered.
type resourceIndicators struct {
	cache *resources.Cache
}

// errInvalidTarget is RFC 8707 §2's error: the requested resource is
// invalid, unknown, or not one this client may ask for.
func errInvalidTarget(hint string, args ...any) *fosite.RFC6749Error {
	e := &fosite.RFC6749Error{
		ErrorField:       "invalid_target",
		DescriptionField: "The requested resource is invalid, unknown, or malformed.",
		CodeField:        http.StatusBadRequest,
	}
	return e.WithHintf(hint, args...)
}

// requested returns the request's resource parameters (repeatable,
// RFC 8707 §2), each checked for form: invalid_target for one that is not
// an absolute URI without a fragment.
func requestedResources(form url.Values) ([]string, error) {
	var out []string
	for _, r := range form["resource"] {
		if err := clients.ValidateResourceURI(r); err != nil {
			return nil, errInvalidTarget("The resource %q %v.", r, err)
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// check verifies that client c may ask for every one of uris, against
// the current snapshot: invalid_target for one it may not, a store
// failure when the snapshot could not be loaded and does not know it.
func (ri *resourceIndicators) check(ctx context.Context, c *store.Client, uris []string) (*resources.Set, error) {
	set, loadErr := ri.cache.Current(ctx)
	for _, u := range uris {
		if resources.Allowed(c, set, u) {
			continue
		}
		if loadErr != nil {
			return nil, &unavailableError{loadErr}
		}
		return nil, errInvalidTarget("The client may not ask for the resource %q.", u)
	}
	return set, nil
}

// checkAudienceParam holds the audience parameter to what it meant before
// resource indicators: values the client's --audience list allows, not
// the resources fositeClient.GetAudience adds for fosite's own checks.
func checkAudienceParam(c *store.Client, requested []string) error {
	return matchAudience(c.Audience, requested)
}

// authorize checks the resources and scopes of an authorization request
// that fosite validated.
func (ri *resourceIndicators) authorize(ctx context.Context, ar fosite.AuthorizeRequester) error {
	c := ar.GetClient().(*fositeClient).c
	if err := checkAudienceParam(c, ar.GetRequestedAudience()); err != nil {
		return err
	}
	uris, err := requestedResources(ar.GetRequestForm())
	if err != nil || len(uris) == 0 {
		return err
	}
	set, err := ri.check(ctx, c, uris)
	if err != nil {
		return err
	}
	for _, s := range ar.GetRequestedScopes() {
		if !set.Accepts(uris, s) {
			return fosite.ErrInvalidScope.WithHintf("The scope %q is not one the requested resources accept.", s)
		}
	}
	return nil
}

// grantAuthorized records, at the authorization endpoint, the requested
// resources in the session for the token requests of the grant, and
// grants the audience the request named. Without resources it is
// grantAudience.
func grantAuthorized(ar fosite.AuthorizeRequester, sess *Session) {
	uris, _ := requestedResources(ar.GetRequestForm()) // checked by authorize
	if len(uris) == 0 {
		grantAudience(ar)
		return
	}
	sess.GrantResources = uris
	// The resources are granted at the token endpoint (token), which may
	// narrow them; fosite adds what the code granted after that, so the
	// code grants only the audience the request named.
	setGrantedAudience(ar, ar.GetRequestedAudience())
}

// token applies the resource parameters of a token request that fosite
// (and, for token exchange, tokenExchangeHandler) accepted, before the
// access token is made. scopeAsked says whether the request named a scope.
func (ri *resourceIndicators) token(ctx context.Context, ar fosite.AccessRequester, scopeAsked bool) error {
	c := ar.GetClient().(*fositeClient).c
	gt := ar.GetGrantTypes()
	uris, err := requestedResources(ar.GetRequestForm())
	if err != nil {
		return err
	}
	if gt.ExactOne(clients.GrantClientCredentials) || gt.ExactOne(clients.GrantTokenExchange) {
		if err := checkAudienceParam(c, ar.GetRequestedAudience()); err != nil {
			return err
		}
		if len(uris) == 0 {
			return nil
		}
		set, err := ri.check(ctx, c, uris)
		if err != nil {
			return err
		}
		var scopes []string
		for _, s := range ar.GetGrantedScopes() {
			switch {
			case set.Accepts(uris, s):
				scopes = append(scopes, s)
			case scopeAsked:
				return fosite.ErrInvalidScope.WithHintf("The scope %q is not one the requested resources accept.", s)
			}
		}
		setGrantedScopes(ar, scopes)
		setGrantedAudience(ar, union(uris, ar.GetRequestedAudience()))
		return nil
	}
	// authorization_code and refresh_token: the grant's resources.
	sess, _ := ar.GetSession().(*Session)
	var grant []string
	if sess != nil {
		grant = sess.GrantResources
	}
	for _, u := range uris {
		if !slices.Contains(grant, u) {
			return errInvalidTarget("The resource %q was not granted by the authorization.", u)
		}
	}
	if len(grant) == 0 {
		return nil
	}
	if len(uris) == 0 {
		uris = grant
	}
	if _, err := ri.check(ctx, c, uris); err != nil {
		return err
	}
	setGrantedAudience(ar, union(uris, ar.GetRequestedAudience()))
	return nil
}

// refreshTargetError turns fosite's refusal of a refresh whose grant
// names an audience or resource the client may no longer use (deleted,
// or left out of its list since) into invalid_target (RFC 8707 §2).
func refreshTargetError(ar fosite.AccessRequester, err error) error {
	var ae audienceError
	if ar == nil || !ar.GetGrantTypes().ExactOne(clients.GrantRefreshToken) || !errors.As(err, &ae) {
		return err
	}
	return errInvalidTarget("The grant's resource %q is no longer one the client may ask for.", ae.aud)
}

// union returns a followed by the members of b it lacks.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, v := range b {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// setGrantedAudience replaces the audience granted to r (fosite's
// Requester can only add to it).
func setGrantedAudience(r fosite.Requester, aud []string) {
	if req := baseRequest(r); req != nil {
		req.GrantedAudience = fosite.Arguments(aud)
	}
}

// setGrantedScopes replaces the scopes granted to r.
func setGrantedScopes(r fosite.Requester, scopes []string) {
	if req := baseRequest(r); req != nil {
		req.GrantedScope = fosite.Arguments(scopes)
	}
}

func baseRequest(r fosite.Requester) *fosite.Request {
	switch v := r.(type) {
	case *fosite.AccessRequest:
		return &v.Request
	case *fosite.AuthorizeRequest:
		return &v.Request
	case *fosite.Request:
		return v
	}
	return nil
}
