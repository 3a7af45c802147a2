package authz

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/authz/resources"
	"github.com/keyward/keyward/store"
)

// clientMetadata is the client metadata of RFC 7591 §2 (and OIDC Dynamic
// Client Registration §2) that Keyward reads from a registration or an
// update request. Members it does not know are ignored (RFC 7591 §2).
type clientMetadata struct {
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	ClientName              string   `json:"client_name"`
	Scope                   string   `json:"scope"`
	PostLogoutRedirectURIs  []string `json:"post_logout_redirect_uris"`
	IDTokenSignedAlg        string   `json:"id_token_signed_response_alg"`
	// JWKS (a JWK Set object) or JWKSURI: the client's public keys, for
	// private_key_jwt (RFC 7523 §2.2) and signed request objects.
	JWKS    json.RawMessage `json:"jwks"`
	JWKSURI string          `json:"jwks_uri"`
	keptMetadata
	// ClientID and ClientSecret are in an update request only (RFC 7592
	// §2.2): the first must be the client's, the second, when present,
	// its current secret.
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// keptMetadata is the metadata Keyward stores and shows back without
// acting on it (store.Client.RegistrationMetadata).
type keptMetadata struct {
	ClientURI       string   `json:"client_uri,omitempty"`
	LogoURI         string   `json:"logo_uri,omitempty"`
	TOSURI          string   `json:"tos_uri,omitempty"`
	PolicyURI       string   `json:"policy_uri,omitempty"`
	Contacts        []string `json:"contacts,omitempty"`
	SoftwareID      string   `json:"software_id,omitempty"`
	SoftwareVersion string   `json:"software_version,omitempty"`
	// AuthMethod is the token_endpoint_auth_method registered (both
	// client_secret_basic and client_secret_post are a confidential
	// client with a secret; the client may use either).
	AuthMethod string `json:"token_endpoint_auth_method,omitempty"`
	// Policy is the registration policy the client registered under
	// (RegistrationOpen or RegistrationInitialToken): an update is held
	// to the same rules.
	Policy string `json:"keyward_registration_policy,omitempty"`
}

// metadataError is a refusal of RFC 7591 §3.2.2: code is
// invalid_redirect_uri or invalid_client_metadata.
type metadataError struct{ code, desc string }

func (e *metadataError) Error() string { return e.code + ": " + e.desc }

func invalidMetadata(f string, a ...any) *metadataError {
	return &metadataError{"invalid_client_metadata", fmt.Sprintf(f, a...)}
}

func invalidRedirect(f string, a ...any) *metadataError {
	return &metadataError{"invalid_redirect_uri", fmt.Sprintf(f, a...)}
}

// parseClientMetadata reads a JSON object of client metadata; anything
// else (not JSON, not an object, a member of the wrong type) is
// invalid_client_metadata.
func parseClientMetadata(body []byte) (*clientMetadata, error) {
	var m clientMetadata
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if err := dec.Decode(&m); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, invalidMetadata("%s: wrong type (%s, want %s)", te.Field, te.Value, te.Type)
		}
		return nil, invalidMetadata("the body must be a JSON object of client metadata (RFC 7591 §2)")
	}
	if dec.More() {
		return nil, invalidMetadata("the body must be one JSON object")
	}
	return &m, nil
}

// registrationRules are what a policy allows a registration.
type registrationRules struct {
	policy string
	// resources is the snapshot of registered resources, whose scopes an
	// open registration may ask for.
	resources *resources.Set
}

// openScopes are the scopes anyone may register for under the open
// policy, beside the scopes of registered resources.
var openScopes = []string{"openid", "offline_access", "profile", "email"}

// defaultRegistrationScope is registered when an interactive client
// names no scope (RFC 7591 §2 lets the server choose).
const defaultRegistrationScope = "openid profile email"

// applyAuthMethod is the one mapping of token_endpoint_auth_method (RFC
// 7591 §2) to a client's settings: none is a public client (no secret),
// client_secret_basic and client_secret_post a confidential client with a
// server-generated secret, which may authenticate either way. An unknown
// method is invalid_client_metadata.
func applyAuthMethod(method string, p *clients.Params) error {
	switch method {
	case clients.AuthNone:
		p.Public = true
	case clients.AuthSecretBasic, clients.AuthSecretPost:
		p.Public = false
	case clients.AuthPrivateKeyJWT:
		// No secret: the client proves itself with assertions signed by
		// the keys it registers (jwks or jwks_uri, checked by the
		// registry; a jwks_uri is fetched through the SSRF guard).
		if p.JWKS == "" && p.JWKSURI == "" {
			return invalidMetadata("token_endpoint_auth_method private_key_jwt needs jwks or jwks_uri")
		}
		p.Public, p.AuthMethod = false, method
	default:
		return invalidMetadata("token_endpoint_auth_method %q: not one of none, client_secret_basic, client_secret_post, private_key_jwt", method)
	}
	return nil
}

// params turns metadata into the settings of a client and the metadata
// to keep, under rules. The first refusal comes back as a
// *metadataError.
func (m *clientMetadata) params(rules registrationRules) (clients.Params, keptMetadata, error) {
	var p clients.Params
	kept := m.keptMetadata
	kept.Policy = rules.policy
	open := rules.policy == RegistrationOpen

	// RFC 7591 §2: the default method is client_secret_basic; an open
	// registration may only make public clients, so there it is none.
	if m.TokenEndpointAuthMethod == "" {
		m.TokenEndpointAuthMethod = "client_secret_basic"
		if open {
			m.TokenEndpointAuthMethod = "none"
		}
	}
	if len(m.JWKS) > 0 && string(m.JWKS) != "null" {
		p.JWKS = string(m.JWKS)
	}
	p.JWKSURI = m.JWKSURI
	if p.JWKS != "" && p.JWKSURI != "" {
		return p, kept, invalidMetadata("jwks and jwks_uri: give one of them (RFC 7591 §2)")
	}
	if err := applyAuthMethod(m.TokenEndpointAuthMethod, &p); err != nil {
		return p, kept, err
	}
	kept.AuthMethod = m.TokenEndpointAuthMethod
	if open && !p.Public {
		return p, kept, invalidMetadata("open registration makes public clients only: token_endpoint_auth_method must be none")
	}

	// RFC 7591 §2.1: grant_types and response_types must agree; the
	// defaults are authorization_code and code.
	grants, types := dedupe(m.GrantTypes), dedupe(m.ResponseTypes)
	if len(grants) == 0 {
		grants = []string{clients.GrantAuthorizationCode}
	}
	for _, g := range grants {
		switch g {
		case clients.GrantAuthorizationCode, clients.GrantRefreshToken, clients.GrantClientCredentials, clients.GrantDeviceCode:
		case "implicit", "password":
			return p, kept, invalidMetadata("grant type %q is not supported (OAuth 2.1 drops it)", g)
		default:
			return p, kept, invalidMetadata("grant type %q is not supported", g)
		}
	}
	code := slices.Contains(grants, clients.GrantAuthorizationCode)
	if len(types) == 0 && code {
		types = []string{"code"}
	}
	for _, t := range types {
		if t != "code" {
			return p, kept, invalidMetadata("response type %q is not supported (only code)", t)
		}
	}
	if code != slices.Contains(types, "code") {
		return p, kept, invalidMetadata("grant_types and response_types disagree: authorization_code goes with the response type code (RFC 7591 §2.1)")
	}
	p.GrantTypes = grants

	for _, u := range m.RedirectURIs {
		if err := checkRegisteredRedirect(u, open); err != nil {
			return p, kept, invalidRedirect("redirect_uri %q: %v", u, err)
		}
	}
	for _, u := range m.PostLogoutRedirectURIs {
		if err := checkRegisteredRedirect(u, open); err != nil {
			return p, kept, invalidRedirect("post_logout_redirect_uri %q: %v", u, err)
		}
	}
	if code && len(m.RedirectURIs) == 0 {
		return p, kept, invalidRedirect("the authorization_code grant needs at least one redirect_uri")
	}
	p.RedirectURIs, p.PostLogoutRedirectURIs = m.RedirectURIs, m.PostLogoutRedirectURIs

	scope := m.Scope
	if strings.TrimSpace(scope) == "" && (code || slices.Contains(grants, clients.GrantDeviceCode)) {
		scope = defaultRegistrationScope
	}
	p.Scopes = strings.Fields(scope)
	for _, s := range p.Scopes {
		if strings.HasPrefix(s, "keyward:") {
			return p, kept, invalidMetadata("scope %q is for clients an administrator creates", s)
		}
		if open && !slices.Contains(openScopes, s) && !resourceScope(rules.resources, s) {
			return p, kept, invalidMetadata("scope %q: open registration allows %s and the scopes of registered resources",
				s, strings.Join(openScopes, ", "))
		}
	}

	p.Name = strings.TrimSpace(m.ClientName)
	if p.Name == "" {
		p.Name = "Registered client"
	}
	p.IDTokenAlg = m.IDTokenSignedAlg
	// The consent page shows the logo, so it must be https.
	if err := clients.ValidateLogoURI(kept.LogoURI); err != nil {
		return p, kept, invalidMetadata("logo_uri %q: %v", kept.LogoURI, err)
	}
	p.LogoURI = kept.LogoURI
	for name, u := range map[string]string{"client_uri": kept.ClientURI,
		"tos_uri": kept.TOSURI, "policy_uri": kept.PolicyURI} {
		if err := checkWebURI(u); err != nil {
			return p, kept, invalidMetadata("%s %q: %v", name, u, err)
		}
	}
	if len(kept.Contacts) > 20 {
		return p, kept, invalidMetadata("contacts: at most 20")
	}
	for _, c := range kept.Contacts {
		if c == "" || len(c) > 256 {
			return p, kept, invalidMetadata("contacts: each 1 to 256 characters")
		}
	}
	if len(kept.SoftwareID) > 256 || len(kept.SoftwareVersion) > 256 {
		return p, kept, invalidMetadata("software_id and software_version: at most 256 characters")
	}
	return p, kept, nil
}

// checkRegisteredRedirect checks a redirect URI of a registration: the
// registry's rules (absolute, no fragment, https, loopback http or a
// private-use scheme), and under the open policy https or loopback http
// only.
func checkRegisteredRedirect(raw string, open bool) error {
	if err := clients.ValidateRedirectURI(raw); err != nil {
		return err
	}
	if open {
		u, _ := url.Parse(raw)
		if s := strings.ToLower(u.Scheme); s != "https" && s != "http" {
			return errors.New("open registration allows https or loopback http redirect URIs only")
		}
	}
	return nil
}

// checkWebURI checks an informational URI (client_uri, logo_uri…): empty,
// or an absolute http(s) URL of at most 2048 bytes.
func checkWebURI(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || len(raw) > 2048 || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("must be an absolute http(s) URL")
	}
	return nil
}

// resourceScope reports whether some registered resource accepts scope.
func resourceScope(set *resources.Set, scope string) bool {
	for _, uri := range set.URIs() {
		if r, ok := set.Lookup(uri); ok && slices.Contains(r.Scopes, scope) {
			return true
		}
	}
	return false
}

func dedupe(in []string) []string {
	var out []string
	for _, s := range in {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// validationProblem turns the registry's refusal into invalid_client_metadata.
func validationProblem(err error) (*metadataError, bool) {
	var ve *store.ValidationError
	if !errors.As(err, &ve) {
		return nil, false
	}
	return invalidMetadata("%s", strings.Join(ve.Problems, "; ")), true
}
