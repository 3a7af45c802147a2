package authz

import (
	"slices"

	"github.com/ory/fosite"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/store"
)

// fositeClient adapts a store.Client to fosite.Client. It deliberately is
// not a fosite.OpenIDConnectClient: that would pin one token-endpoint auth
// method, and the contract accepts both client_secret_basic and
// client_secret_post from every confidential client.
type fositeClient struct {
	c *store.Client
	// resources are the RFC 8707 resources the client may ask for now
	// (resources.AllowedURIs), set by fositeStore.GetClient.
	resources []string
}

var (
	_ fosite.Client             = (*fositeClient)(nil)
	_ fosite.ResponseModeClient = (*fositeClient)(nil)
)

func (f *fositeClient) GetID() string                   { return f.c.ID }
func (f *fositeClient) GetHashedSecret() []byte         { return f.c.SecretDigest }
func (f *fositeClient) GetRedirectURIs() []string       { return f.c.RedirectURIs }
func (f *fositeClient) GetGrantTypes() fosite.Arguments { return fosite.Arguments(f.c.GrantTypes) }
func (f *fositeClient) GetResponseTypes() fosite.Arguments {
	if slices.Contains(f.c.GrantTypes, clients.GrantAuthorizationCode) {
		return fosite.Arguments{"code"}
	}
	return fosite.Arguments{}
}
func (f *fositeClient) GetScopes() fosite.Arguments   { return fosite.Arguments(f.c.Scopes) }
func (f *fositeClient) IsPublic() bool                { return f.c.Public }
func (f *fositeClient) GetAudience() fosite.Arguments { return f.audience() }

// audience is GetAudience (fosite.Client): the client's --audience values
// and the resources it may ask for, so that fosite's refresh handler
// accepts a grant for resources only while the client may still use
// them. The audience parameter is held to --audience alone
// (checkAudienceParam), and a default audience is --audience alone
// (grantAudience).
func (f *fositeClient) audience() fosite.Arguments {
	if len(f.resources) == 0 {
		return fosite.Arguments(f.c.Audience)
	}
	return fosite.Arguments(union(f.c.Audience, f.resources))
}

// GetResponseModes implements fosite.ResponseModeClient: query only, as
// response_modes_supported says (OAuth 2.0 Multiple Response Type Encoding
// Practices §2.1), so an explicit response_mode=query is accepted and any
// other mode refused with unsupported_response_mode. fosite asks only when
// a request names a response_mode.
func (f *fositeClient) GetResponseModes() []fosite.ResponseModeType {
	return []fosite.ResponseModeType{fosite.ResponseModeQuery}
}

// clients.Hasher compares client secrets by their keyed digest; fosite
// turns its error into invalid_client.
var _ fosite.Hasher = (*clients.Hasher)(nil)
