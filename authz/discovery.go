package authz

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"
)

// SigningKeysChannel is the events channel on which the signing-key
// service announces key changes (keys/signing.Channel); verified-token
// caches are dropped on it.
const SigningKeysChannel = "keyward_signing_keys"

// Endpoint paths, all advertised by discovery.
const (
	PathAuthorize   = "/oauth2/auth"
	PathToken       = "/oauth2/token"
	PathIntrospect  = "/oauth2/introspect"
	PathRevoke      = "/oauth2/revoke"
	PathUserinfo    = "/userinfo"
	PathEndSession  = "/oauth2/logout"
	PathJWKS        = "/.well-known/jwks.json"
	PathVerifyKey   = "/v1/apikeys/verify"
	PathConsent     = "/oauth2/consent"
	PathLogin       = "/login"
	PathOIDCConfig  = "/.well-known/openid-configuration"
	PathOAuthConfig = "/.well-known/oauth-authorization-server"
)

// discoveryDoc is the provider metadata of OpenID Connect Discovery 1.0
// §3 and RFC 8414 §2 (one document serves both).
type discoveryDoc struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	JWKSURI                                    string   `json:"jwks_uri"`
	UserinfoEndpoint                           string   `json:"userinfo_endpoint"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint"`
	RevocationEndpoint                         string   `json:"revocation_endpoint"`
	EndSessionEndpoint                         string   `json:"end_session_endpoint"`
	ScopesSupported                            []string `json:"scopes_supported"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	ResponseModesSupported                     []string `json:"response_modes_supported"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	SubjectTypesSupported                      []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported           []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethodsSupported  []string `json:"introspection_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	ClaimsSupported                            []string `json:"claims_supported"`
	PromptValuesSupported                      []string `json:"prompt_values_supported"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
	ClaimsParameterSupported                   bool     `json:"claims_parameter_supported"`
	RequestParameterSupported                  bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported               bool     `json:"request_uri_parameter_supported"`
	FrontchannelLogoutSupported                bool     `json:"frontchannel_logout_supported"`
	BackchannelLogoutSupported                 bool     `json:"backchannel_logout_supported"`
	APIKeyVerificationEndpoint                 string   `json:"keyward_api_key_verification_endpoint"`
	TokenExchangeSubjectTokenTypes             []string `json:"keyward_token_exchange_subject_token_types_supported"`
}

func (p *Provider) renderDiscovery() error {
	iss := p.cfg.Issuer
	auth := []string{"client_secret_basic", "client_secret_post"}
	algs := slices.Clone(p.cfg.IDTokenAlgs)
	if !slices.Contains(algs, DefaultIDTokenAlg) {
		algs = append([]string{DefaultIDTokenAlg}, algs...)
	}
	doc := discoveryDoc{
		Issuer:                                    iss,
		AuthorizationEndpoint:                     iss + PathAuthorize,
		TokenEndpoint:                             iss + PathToken,
		JWKSURI:                                   iss + PathJWKS,
		UserinfoEndpoint:                          iss + PathUserinfo,
		IntrospectionEndpoint:                     iss + PathIntrospect,
		RevocationEndpoint:                        iss + PathRevoke,
		EndSessionEndpoint:                        iss + PathEndSession,
		ScopesSupported:                           []string{"openid", "profile", "email"},
		ResponseTypesSupported:                    []string{"code"},
		ResponseModesSupported:                    []string{"query"},
		GrantTypesSupported:                       []string{GrantAuthorizationCode, GrantClientCredentials, GrantRefreshToken, GrantTokenExchange},
		SubjectTypesSupported:                     []string{"public"},
		IDTokenSigningAlgValuesSupported:          algs,
		TokenEndpointAuthMethodsSupported:         append(slices.Clone(auth), "none"),
		IntrospectionEndpointAuthMethodsSupported: auth,
		// Public clients revoke their own tokens with client_id (RFC 7009 §2.1).
		RevocationEndpointAuthMethodsSupported:     append(slices.Clone(auth), "none"),
		CodeChallengeMethodsSupported:              []string{"S256"},
		ClaimsSupported:                            []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "name", "preferred_username", "email", "email_verified", "updated_at"},
		PromptValuesSupported:                      []string{"none", "login", "consent"},
		AuthorizationResponseIssParameterSupported: true,
		APIKeyVerificationEndpoint:                 iss + PathVerifyKey,
		TokenExchangeSubjectTokenTypes:             []string{TokenTypeAPIKey},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	p.oidcDiscovery = b
	p.oauthDiscovery = b
	return nil
}

// Discovery returns the discovery document's bytes.
func (p *Provider) Discovery() []byte { return p.oidcDiscovery }

func (p *Provider) serveDiscovery(doc func() []byte) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=3600")
		c.Data(http.StatusOK, "application/json", doc())
	}
}
