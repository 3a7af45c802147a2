package clients

import (
	"fmt"
	"slices"
	"strings"

	"github.com/keyward/keyward/store"
)

// Params is what a person chooses for a client.
type Params struct {
	Name                   string
	GrantTypes             []string
	Scopes                 []string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	Audience               []string
	Public                 bool
	SkipConsent            bool
	AccessTokenFormat      string
	IDTokenAlg             string
	// PKCEOptional lets a legacy confidential client use the authorization
	// code grant without PKCE (OAuth 2.1 and RFC 9700 §2.1.1 require it by
	// default); a public client always needs PKCE.
	PKCEOptional bool
	// Resources are the RFC 8707 resources (absolute URIs without a
	// fragment) the client may ask for; empty: any registered resource.
	Resources []string
	// PARRequired makes the client's authorization requests go through the
	// pushed authorization request endpoint (RFC 9126 §6).
	PARRequired bool
	// DPoPRequired makes the client's token requests carry a DPoP proof
	// (RFC 9449 §5.2), so every token it gets is bound to its key.
	DPoPRequired bool
	// BackchannelLogoutURI receives the client's logout tokens (OpenID
	// Connect Back-Channel Logout 1.0 §2.2; ValidateBackchannelLogoutURI).
	BackchannelLogoutURI string
	// BackchannelLogoutSessionRequired: every logout token names the
	// session (sid), never only the user (§2.2).
	BackchannelLogoutSessionRequired bool
	// AuthMethod is the token-endpoint authentication method (RFC 7591
	// §2): AuthSecretBasic, AuthSecretPost, AuthPrivateKeyJWT or AuthNone;
	// "" is AuthNone for a public client and AuthSecretBasic otherwise.
	// AuthNone makes the client public.
	AuthMethod string
	// JWKS is the client's public JWK Set (JSON), JWKSURI where to fetch
	// it: one of them for AuthPrivateKeyJWT, optional otherwise (signed
	// request objects, RFC 9101).
	JWKS    string
	JWKSURI string
	// MFA is the client's second-factor policy: "" or "optional" (the
	// deployment's), or "required" (every authorization for the client
	// needs two factors).
	MFA string
	// Profile is the security profile the client is held to: "" or
	// ProfileFAPI2 (validated by validateFAPI2, enforced by authz).
	Profile string
	// LogoURI is the https URL of the client's logo, which the consent
	// page shows (RFC 7591 §2 logo_uri); "" for none.
	LogoURI string
}

// ParamsOf returns the settings of c, to change some of them (Update).
func ParamsOf(c *store.Client) Params {
	return Params{Name: c.Name, GrantTypes: c.GrantTypes, Scopes: c.Scopes, RedirectURIs: c.RedirectURIs,
		PostLogoutRedirectURIs: c.PostLogoutRedirectURIs, Audience: c.Audience, Public: c.Public,
		SkipConsent: c.SkipConsent, AccessTokenFormat: c.AccessTokenFormat, IDTokenAlg: c.IDTokenAlg,
		PKCEOptional: c.PKCEOptional, PARRequired: c.PARRequired, Resources: c.Resources,
		DPoPRequired:         c.DPoPRequired,
		BackchannelLogoutURI: c.BackchannelLogoutURI, BackchannelLogoutSessionRequired: c.BackchannelLogoutSessionRequired,
		AuthMethod: AuthMethodOf(c), JWKS: c.JWKS, JWKSURI: c.JWKSURI, MFA: c.MFA, Profile: c.Profile, LogoURI: c.LogoURI}
}

// AuthMethodOf is the token-endpoint authentication method of c: the one
// it registered, or the default of its kind for a client from before
// there was a choice.
func AuthMethodOf(c *store.Client) string {
	switch {
	case c.AuthMethod != "":
		return c.AuthMethod
	case c.Public:
		return AuthNone
	}
	return AuthSecretBasic
}

// HasSecret reports whether c authenticates with a client secret.
func HasSecret(c *store.Client) bool {
	m := AuthMethodOf(c)
	return m == AuthSecretBasic || m == AuthSecretPost
}

func (p Params) withDefaults() Params {
	if len(p.GrantTypes) == 0 {
		if len(p.RedirectURIs) > 0 || p.Public {
			p.GrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}
		} else {
			p.GrantTypes = []string{GrantClientCredentials}
		}
	}
	if p.AccessTokenFormat == "" {
		p.AccessTokenFormat = "jwt"
	}
	p.GrantTypes = dedupe(p.GrantTypes)
	p.Scopes = dedupe(p.Scopes)
	p.RedirectURIs = dedupe(p.RedirectURIs)
	p.PostLogoutRedirectURIs = dedupe(p.PostLogoutRedirectURIs)
	p.Audience = dedupe(p.Audience)
	p.Resources = dedupe(p.Resources)
	if p.AuthMethod == AuthNone {
		p.Public = true
	}
	if p.AuthMethod == "" {
		p.AuthMethod = AuthSecretBasic
		if p.Public {
			p.AuthMethod = AuthNone
		}
	}
	p.JWKS = strings.TrimSpace(p.JWKS)
	if p.Profile == ProfileFAPI2 && p.IDTokenAlg == "" {
		p.IDTokenAlg = FAPI2IDTokenAlg
	}
	return p
}

// Validate reports every problem with p at once as a *store.ValidationError.
func (p Params) Validate() error {
	var probs []string
	add := func(f string, a ...any) { probs = append(probs, fmt.Sprintf(f, a...)) }
	if strings.TrimSpace(p.Name) == "" || len(p.Name) > 200 {
		add("name: required, at most 200 characters")
	}
	for _, g := range p.GrantTypes {
		switch g {
		case GrantClientCredentials, GrantAuthorizationCode, GrantRefreshToken, GrantTokenExchange, GrantDeviceCode:
		default:
			add("grant type %q: not one of client_credentials, authorization_code, refresh_token, %s, %s", g, GrantTokenExchange, GrantDeviceCode)
		}
	}
	has := func(g string) bool { return slices.Contains(p.GrantTypes, g) }
	if p.Public && has(GrantClientCredentials) {
		add("a public client cannot use client_credentials (it has no secret)")
	}
	if has(GrantAuthorizationCode) && len(p.RedirectURIs) == 0 {
		add("authorization_code needs at least one --redirect-uri")
	}
	if p.Public && p.PKCEOptional {
		add("a public client cannot opt out of PKCE (RFC 9700 §2.1.1)")
	}
	if p.PARRequired && !has(GrantAuthorizationCode) {
		add("par required needs the authorization_code grant (RFC 9126 applies to authorization requests)")
	}
	switch p.MFA {
	case "", "optional", "required":
	default:
		add("mfa %q: not optional or required", p.MFA)
	}
	if has(GrantRefreshToken) && !has(GrantAuthorizationCode) && !has(GrantDeviceCode) {
		add("refresh_token needs authorization_code or %s", GrantDeviceCode)
	}
	for _, s := range p.Scopes {
		if !ValidScopeToken(s) {
			add("scope %q: not a valid scope token (RFC 6749 §3.3)", s)
		}
	}
	for _, u := range p.RedirectURIs {
		if err := ValidateRedirectURI(u); err != nil {
			add("redirect URI %q: %v", u, err)
		}
	}
	for _, u := range p.PostLogoutRedirectURIs {
		if err := ValidateRedirectURI(u); err != nil {
			add("post-logout redirect URI %q: %v", u, err)
		}
	}
	if p.BackchannelLogoutURI != "" {
		if err := ValidateBackchannelLogoutURI(p.BackchannelLogoutURI); err != nil {
			add("backchannel logout URI %q: %v", p.BackchannelLogoutURI, err)
		}
	}
	for _, a := range p.Audience {
		if a == "" || len(a) > 2048 || strings.ContainsAny(a, " \t\r\n") {
			add("audience %q: must be a non-empty string without spaces", a)
		}
	}
	for _, r := range p.Resources {
		if err := ValidateResourceURI(r); err != nil {
			add("resource %q: %v", r, err)
		}
	}
	switch p.AuthMethod {
	case AuthSecretBasic, AuthSecretPost, AuthPrivateKeyJWT:
		if p.Public {
			add("token endpoint auth method %q: a public client authenticates with none", p.AuthMethod)
		}
	case AuthNone, "":
	default:
		add("token endpoint auth method %q: not one of %s, %s, %s, %s", p.AuthMethod,
			AuthSecretBasic, AuthSecretPost, AuthPrivateKeyJWT, AuthNone)
	}
	if p.JWKS != "" && p.JWKSURI != "" {
		add("jwks and jwks_uri: give one of them, not both (RFC 7591 §2)")
	}
	if p.AuthMethod == AuthPrivateKeyJWT && p.JWKS == "" && p.JWKSURI == "" {
		add("private_key_jwt needs the client's public keys: a JWK Set (--jwks-file) or a jwks_uri (--jwks-uri)")
	}
	if p.JWKS != "" {
		if _, err := ParseJWKS([]byte(p.JWKS)); err != nil {
			add("jwks: %v", err)
		}
	}
	if p.JWKSURI != "" {
		if err := ValidateJWKSURI(p.JWKSURI); err != nil {
			add("jwks_uri %q: %v", p.JWKSURI, err)
		}
	}
	switch p.AccessTokenFormat {
	case "jwt", "opaque":
	default:
		add("access token format %q: must be jwt or opaque", p.AccessTokenFormat)
	}
	switch p.IDTokenAlg {
	case "", "RS256", "ES256", "EdDSA":
	default:
		add("id token algorithm %q: must be RS256, ES256 or EdDSA", p.IDTokenAlg)
	}
	if err := ValidateLogoURI(p.LogoURI); err != nil {
		add("logo_uri %q: %v", p.LogoURI, err)
	}
	probs = append(probs, p.validateProfile()...)
	if len(probs) > 0 {
		return &store.ValidationError{Problems: probs}
	}
	return nil
}

func dedupe(in []string) []string {
	var out []string
	for _, s := range in {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
