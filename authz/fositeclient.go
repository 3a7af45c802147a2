package authz

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"slices"

	"github.com/ory/fosite"

	"github.com/keyward/keyward/store"
)

// fositeClient adapts a store.Client to fosite.Client. It deliberately is
// not a fosite.OpenIDConnectClient: that would pin one token-endpoint auth
// method, and the contract accepts both client_secret_basic and
// client_secret_post from every confidential client.
type fositeClient struct {
	c *store.Client
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
	if slices.Contains(f.c.GrantTypes, GrantAuthorizationCode) {
		return fosite.Arguments{"code"}
	}
	return fosite.Arguments{}
}
func (f *fositeClient) GetScopes() fosite.Arguments   { return fosite.Arguments(f.c.Scopes) }
func (f *fositeClient) IsPublic() bool                { return f.c.Public }
func (f *fositeClient) GetAudience() fosite.Arguments { return fosite.Arguments(f.c.Audience) }

// GetResponseModes implements fosite.ResponseModeClient: query only, as
// response_modes_supported says (OAuth 2.0 Multiple Response Type Encoding
// Practices §2.1), so an explicit response_mode=query is accepted and any
// other mode refused with unsupported_response_mode. fosite asks only when
// a request names a response_mode.
func (f *fositeClient) GetResponseModes() []fosite.ResponseModeType {
	return []fosite.ResponseModeType{fosite.ResponseModeQuery}
}

// secretHasher compares client secrets by their keyed digest: one
// HMAC-SHA-256 (about a microsecond) instead of a slow password hash per
// token request, which is safe because secrets are server-generated with
// 256 bits of entropy (DESIGN.md; RFC 6749 §2.3.1).
type secretHasher struct{ key []byte }

var _ fosite.Hasher = (*secretHasher)(nil)

// Compare implements fosite.Hasher; fosite.ErrInvalidClient-compatible
// errors are produced by fosite from any error returned here.
func (h *secretHasher) Compare(_ context.Context, digest, secret []byte) error {
	if len(digest) == 0 || !hmac.Equal(digest, h.sum(secret)) {
		return fosite.ErrInvalidClient
	}
	return nil
}

// Hash implements fosite.Hasher.
func (h *secretHasher) Hash(_ context.Context, secret []byte) ([]byte, error) {
	return h.sum(secret), nil
}

func (h *secretHasher) sum(b []byte) []byte {
	m := hmac.New(sha256.New, h.key)
	m.Write(b)
	return m.Sum(nil)
}
