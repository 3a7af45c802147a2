package resources

import (
	"slices"

	"github.com/keyward/keyward/store"
)

// Allowed reports whether client c may ask for the resource uri, given
// the registered resources set: a resource in its own list always, a
// registered one when its list is empty (CONTRACT.md: "a client may ask
// for a registered resource unless its own --resource list excludes it,
// and for one in its own list").
func Allowed(c *store.Client, set *Set, uri string) bool {
	if slices.Contains(c.Resources, uri) {
		return true
	}
	if len(c.Resources) > 0 {
		return false
	}
	_, ok := set.Lookup(uri)
	return ok
}

// AllowedURIs returns every resource c may ask for.
func AllowedURIs(c *store.Client, set *Set) []string {
	if len(c.Resources) > 0 {
		return c.Resources
	}
	return set.URIs()
}

// StandardScopes are the OpenID Connect scopes (OIDC Core §3.1.2.1,
// §5.4, §11): they concern the user and the client, not a resource
// server, so a token for a resource may carry them whatever scopes the
// resource registered.
var StandardScopes = []string{"openid", "profile", "email", "address", "phone", "offline_access"}

// Accepts reports whether a token whose aud is uris may carry scope: any
// scope when uris is empty, a standard scope always; otherwise when one of the resources registered
// it, or when one of them registered no scopes (it restricts none) or is
// not registered at all (a resource from a client's own list, whose
// scopes nobody declared).
func (s *Set) Accepts(uris []string, scope string) bool {
	if len(uris) == 0 || slices.Contains(StandardScopes, scope) {
		return true
	}
	for _, u := range uris {
		r, ok := s.Lookup(u)
		if !ok || len(r.Scopes) == 0 || slices.Contains(r.Scopes, scope) {
			return true
		}
	}
	return false
}
