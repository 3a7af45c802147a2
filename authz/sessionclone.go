package authz

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/mohae/deepcopy"
	"github.com/ory/fosite/handler/openid"
)

// cloneOIDCSession is openid.DefaultSession.Clone without reflection:
// fosite's copies the session with deepcopy (about 75 allocations a
// refresh-token rotation, which clones the grant's session). Every map
// and slice is copied, nil staying nil and empty staying empty, as
// deepcopy does (TestSessionClone compares the two). Each struct starts
// as a copy of the original, so a field of plain value a fosite upgrade
// adds is kept; one holding a reference fails
// TestSessionCloneKnowsEveryField until it is copied here.
func cloneOIDCSession(d *openid.DefaultSession) *openid.DefaultSession {
	out := *d
	out.ExpiresAt = maps.Clone(d.ExpiresAt)
	if d.Claims != nil {
		c := *d.Claims
		c.Audience = slices.Clone(c.Audience)
		c.AuthenticationMethodsReferences = slices.Clone(c.AuthenticationMethodsReferences)
		c.Extra = cloneClaims(c.Extra)
		out.Claims = &c
	}
	if d.Headers != nil {
		h := *d.Headers
		h.Extra = cloneClaims(h.Extra)
		out.Headers = &h
	}
	return &out
}

// cloneClaims copies a map of claims and everything in it.
func cloneClaims(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneClaim(v)
	}
	return out
}

// cloneClaim copies one claim value: what JSON decoding makes (objects,
// arrays, strings, numbers, booleans, null) and the string lists Keyward
// sets, directly; any other type through deepcopy, as fosite's Clone did.
func cloneClaim(v any) any {
	switch x := v.(type) {
	case nil, string, bool, float64, int, int64, json.Number:
		return x
	case map[string]any:
		return cloneClaims(x)
	case []any:
		if x == nil {
			return x
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = cloneClaim(e)
		}
		return out
	case []string:
		return slices.Clone(x)
	default:
		return deepcopy.Copy(x)
	}
}
