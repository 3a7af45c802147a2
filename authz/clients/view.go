package clients

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/keyward/keyward/store"
)

// View is the JSON form of a client shown by the CLI and the admin
// API (field names follow RFC 7591 §2 where one exists).
type View struct {
	ClientID               string   `json:"client_id"`
	ClientSecret           string   `json:"client_secret,omitempty"`
	Name                   string   `json:"client_name"`
	Public                 bool     `json:"public"`
	TokenEndpointAuth      string   `json:"token_endpoint_auth_method"`
	GrantTypes             []string `json:"grant_types"`
	Scope                  string   `json:"scope"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	Audience               []string `json:"audience"`
	SkipConsent            bool     `json:"skip_consent"`
	AccessTokenFormat      string   `json:"access_token_format"`
	IDTokenAlg             string   `json:"id_token_signed_response_alg"`
	Disabled               bool     `json:"disabled"`
	PKCERequired           bool     `json:"pkce_required"`
	Resources              []string `json:"resources"` // RFC 8707; empty: any registered resource
	PARRequired            bool     `json:"par_required"`
	Registered             bool     `json:"registered"`               // it registered itself (RFC 7591), not an administrator
	DPoPRequired           bool     `json:"dpop_bound_access_tokens"` // RFC 9449 §5.2
	MFA                    string   `json:"mfa"`                      // optional or required
	// JWKS and JWKSURI are the client's public keys (RFC 7591 §2), for
	// private_key_jwt and signed request objects.
	JWKS      json.RawMessage `json:"jwks,omitempty"`
	JWKSURI   string          `json:"jwks_uri,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`

	// BackchannelLogoutURI and BackchannelLogoutSessionRequired are the
	// metadata of OpenID Connect Back-Channel Logout 1.0 §2.2.
	BackchannelLogoutURI             string `json:"backchannel_logout_uri,omitempty"`
	BackchannelLogoutSessionRequired bool   `json:"backchannel_logout_session_required"`
	// Profile is the security profile the client is held to ("fapi2":
	// the FAPI 2.0 Security Profile); omitted when none.
	Profile string `json:"profile,omitempty"`
	// LogoURI is the https URL of the logo the consent page shows
	// (RFC 7591 §2); omitted when none.
	LogoURI string `json:"logo_uri,omitempty"`
}

// NewView renders c; secret is included only when non-empty (at
// creation and rotation).
func NewView(c *store.Client, secret string) View {
	auth := AuthMethodOf(c)
	var jwks json.RawMessage
	if c.JWKS != "" && json.Valid([]byte(c.JWKS)) {
		jwks = json.RawMessage(c.JWKS)
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
		DPoPRequired:         c.DPoPRequired,
		BackchannelLogoutURI: c.BackchannelLogoutURI, BackchannelLogoutSessionRequired: c.BackchannelLogoutSessionRequired,
		JWKS: jwks, JWKSURI: c.JWKSURI, MFA: mfaOf(c.MFA), Profile: c.Profile, LogoURI: c.LogoURI,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Registered: c.Registered,
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
