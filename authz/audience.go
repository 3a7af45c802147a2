package authz

import (
	"net/url"
	"slices"

	"github.com/ory/fosite"
)

// grantAudience grants the audiences a token request asked for (fosite has
// checked them against the client's registration) or, when it asked for
// none, every audience the client is registered with: a client created
// with --audience gets tokens for its resource servers without having to
// name them each time (RFC 9068 §3: aud identifies the resource server).
// With neither, the access token's aud is the client itself (strategy.go).
// Resource indicators replace this (resourceIndicators).
func grantAudience(r fosite.Requester) {
	aud := r.GetRequestedAudience()
	if len(aud) == 0 {
		if c, ok := r.GetClient().(*fositeClient); ok {
			aud = c.c.Audience // not the resources GetAudience adds
		}
	}
	for _, a := range aud {
		r.GrantAudience(a)
	}
}

// matchAudience is the audience matching strategy (fosite's
// AudienceMatchingStrategy): a requested audience is allowed when it
// equals an allowed one, or when both are hierarchical URLs with a host
// and the requested one lies under the allowed one's path (fosite's
// DefaultAudienceMatchingStrategy, Hydra's behaviour). fosite's strategy
// alone would let any URN (an opaque URI: no host, no path) match any
// other URN of the same scheme.
func matchAudience(allowed, requested []string) error {
	for _, n := range requested {
		if !slices.Contains(allowed, n) && !slices.ContainsFunc(allowed, func(h string) bool { return underURL(h, n) }) {
			return fosite.ErrInvalidRequest.WithHintf("Requested audience '%s' has not been whitelisted by the OAuth 2.0 Client.", n).
				WithWrap(audienceError{n})
		}
	}
	return nil
}

// audienceError is the cause matchAudience gives its error, so the token
// endpoint can tell a refresh whose grant names an audience or resource
// the client may no longer use (fosite's refresh handler checks the grant
// with matchAudience) and answer it as RFC 8707's invalid_target.
type audienceError struct{ aud string }

func (e audienceError) Error() string { return "audience " + e.aud + " not allowed" }

// underURL reports whether n is the URL h or one under its path.
func underURL(h, n string) bool {
	hu, err1 := url.Parse(h)
	nu, err2 := url.Parse(n)
	if err1 != nil || err2 != nil || hu.Host == "" || nu.Host == "" || hu.Opaque != "" || nu.Opaque != "" {
		return false
	}
	return fosite.DefaultAudienceMatchingStrategy([]string{h}, []string{n}) == nil
}
