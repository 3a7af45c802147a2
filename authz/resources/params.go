package resources

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/store"
)

// Params is what an administrator chooses for a resource.
type Params struct {
	// URI is the resource identifier clients send as resource and tokens
	// carry as aud: an absolute URI without a fragment (RFC 8707 §2).
	URI  string
	Name string
	// Scopes the resource accepts; empty: it does not restrict scopes.
	Scopes []string
}

func (p Params) normalized() Params {
	p.Name = strings.TrimSpace(p.Name)
	var scopes []string
	for _, s := range p.Scopes {
		if s != "" && !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	p.Scopes = scopes
	return p
}

// Validate reports every problem with p at once as a *store.ValidationError.
func (p Params) Validate() error {
	var probs []string
	if err := clients.ValidateResourceURI(p.URI); err != nil {
		probs = append(probs, fmt.Sprintf("uri %q: %v", p.URI, err))
	}
	if len(p.Name) > 200 || !utf8.ValidString(p.Name) {
		probs = append(probs, "name: at most 200 characters of UTF-8")
	}
	if len(p.Scopes) > 100 {
		probs = append(probs, "scope: at most 100 scopes")
	}
	for _, s := range p.Scopes {
		if !clients.ValidScopeToken(s) {
			probs = append(probs, fmt.Sprintf("scope %q: not a valid scope token (RFC 6749 §3.3)", s))
		}
	}
	if len(probs) > 0 {
		return &store.ValidationError{Problems: probs}
	}
	return nil
}
