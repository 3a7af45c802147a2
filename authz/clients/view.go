package clients

import (
	"strings"
	"time"

	"github.com/keyward/keyward/store"
)

// View is the JSON form of a client shown by the CLI and the admin
// API (field names follow RFC 7591 §2 where one exists).
type View struct {
	ClientID               string    `json:"client_id"`
	ClientSecret           string    `json:"client_secret,omitempty"`
	Name                   string    `json:"client_name"`
	Public                 bool      `json:"public"`
	TokenEndpointAuth      string    `json:"token_endpoint_auth_method"`
	GrantTypes             []string  `json:"grant_types"`
	Scope                  string    `json:"scope"`
	RedirectURIs           []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs []string  `json:"post_logout_redirect_uris"`
	Audience               []string  `json:"audience"`
	SkipConsent            bool      `json:"skip_consent"`
	AccessTokenFormat      string    `json:"access_token_format"`
	IDTokenAlg             string    `json:"id_token_signed_response_alg"`
	Disabled               bool      `json:"disabled"`
	PKCERequired           bool      `json:"pkce_required"`
	Resources              []string  `json:"resources"` // RFC 8707; empty: any registered resource
	PARRequired            bool      `json:"par_required"`
	MFA                    string    `json:"mfa"` // optional or required
	CreatedAt              time.Time `json:"created_at"`
	UpdatedAt              time.Time `json:"updated_at"`
}

// NewView renders c; secret is included only when non-empty (at
// creation and rotation).
func NewView(c *store.Client, secret string) View {
	auth := "client_secret_basic"
	if c.Public {
		auth = "none"
	}
	alg := c.IDTokenAlg
	if alg == "" {
		alg = "RS256"
	}
	return View{
		ClientID: c.ID, ClientSecret: secret, Name: c.Name, Public: c.Public, TokenEndpointAuth: auth,
		GrantTypes: nonNil(c.GrantTypes), Scope: strings.Join(c.Scopes, " "), RedirectURIs: nonNil(c.RedirectURIs),
		PostLogoutRedirectURIs: nonNil(c.PostLogoutRedirectURIs), Audience: nonNil(c.Audience),
		SkipConsent: c.SkipConsent, AccessTokenFormat: c.AccessTokenFormat, IDTokenAlg: alg,
		Disabled: c.Disabled, PKCERequired: !c.PKCEOptional, Resources: nonNil(c.Resources), PARRequired: c.PARRequired,
		MFA: mfaOf(c.MFA), CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// mfaOf is the policy a client shows: "optional" unless it requires MFA.
func mfaOf(v string) string {
	if v == "" {
		return "optional"
	}
	return v
}
