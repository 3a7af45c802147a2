package authz

import (
	"errors"
	"testing"

	"github.com/keyward/keyward/authz/resources"
	"github.com/keyward/keyward/store"
)

// FuzzClientMetadata: whatever the body, reading and settling client
// metadata (RFC 7591 §2) under every policy never panics, and every
// refusal is an RFC 7591 §3.2.2 error (a 400, never a 500).
func FuzzClientMetadata(f *testing.F) {
	for _, s := range []string{`{}`, `null`, `[]`, `{"redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none"}`,
		`{"grant_types":["client_credentials"],"scope":"a b"}`, `{"response_types":["code","token"]}`, `{"contacts":[1]}`,
		`{"redirect_uris":["https://a.example/#"],"post_logout_redirect_uris":["x:y"]}`, `{"scope":"orders:read"}`} {
		f.Add([]byte(s))
	}
	set := resources.NewSet([]*store.Resource{{URI: "https://api.example", Scopes: []string{"orders:read"}}})
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := parseClientMetadata(body)
		var me *metadataError
		if err != nil {
			if !errors.As(err, &me) || me.code != "invalid_client_metadata" {
				t.Fatalf("parse error %v is not invalid_client_metadata", err)
			}
			return
		}
		for _, policy := range []string{RegistrationInitialToken, RegistrationOpen} {
			mm := *m
			p, _, err := mm.params(registrationRules{policy: policy, resources: set})
			if err != nil {
				if !errors.As(err, &me) {
					t.Fatalf("params error %v is not a metadataError", err)
				}
				continue
			}
			if policy == RegistrationOpen && !p.Public {
				t.Fatalf("open registration settled on a confidential client: %+v", p)
			}
		}
	})
}
