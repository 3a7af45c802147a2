package authz

import "github.com/ory/fosite"

// grantAudience grants the audiences a token request asked for (fosite has
// checked them against the client's registration) or, when it asked for
// none, every audience the client is registered with: a client created
// with --audience gets tokens for its resource servers without having to
// name them each time (RFC 9068 §3: aud identifies the resource server).
// With neither, the access token's aud is the client itself (strategy.go).
func grantAudience(r fosite.Requester) {
	aud := r.GetRequestedAudience()
	if len(aud) == 0 {
		aud = r.GetClient().GetAudience()
	}
	for _, a := range aud {
		r.GrantAudience(a)
	}
}
