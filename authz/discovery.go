package authz

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/authz/resources"
)

// Endpoint paths, all advertised by discovery.
const (
	PathAuthorize   = "/oauth2/auth"
	PathToken       = "/oauth2/token"
	PathPAR         = "/oauth2/par"
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
	DeviceAuthorizationEndpoint                string   `json:"device_authorization_endpoint"`
	EndSessionEndpoint                         string   `json:"end_session_endpoint"`
	ScopesSupported                            []string `json:"scopes_supported"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	ResponseModesSupported                     []string `json:"response_modes_supported"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	SubjectTypesSupported                      []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported           []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	IntrospectionEndpointAuthMethodsSupported  []string `json:"introspection_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthSigningAlgs       []string `json:"introspection_endpoint_auth_signing_alg_values_supported"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported"`
	RevocationEndpointAuthSigningAlgs          []string `json:"revocation_endpoint_auth_signing_alg_values_supported"`
	RequestObjectSigningAlgValuesSupported     []string `json:"request_object_signing_alg_values_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	ClaimsSupported                            []string `json:"claims_supported"`
	PromptValuesSupported                      []string `json:"prompt_values_supported"`
	UILocalesSupported                         []string `json:"ui_locales_supported"`
	ACRValuesSupported                         []string `json:"acr_values_supported"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
	ClaimsParameterSupported                   bool     `json:"claims_parameter_supported"`
	RequestParameterSupported                  bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported               bool     `json:"request_uri_parameter_supported"`
	FrontchannelLogoutSupported                bool     `json:"frontchannel_logout_supported"`
	BackchannelLogoutSupported                 bool     `json:"backchannel_logout_supported"`
	BackchannelLogoutSessionSupported          bool     `json:"backchannel_logout_session_supported"`
	PushedAuthorizationRequestEndpoint         string   `json:"pushed_authorization_request_endpoint"`
	RequirePushedAuthorizationRequests         bool     `json:"require_pushed_authorization_requests"`
	ClientIDMetadataDocumentSupported          bool     `json:"client_id_metadata_document_supported"`
	RegistrationEndpoint                       string   `json:"registration_endpoint,omitempty"` // RFC 7591 §3; left out while closed
	DPoPSigningAlgValuesSupported              []string `json:"dpop_signing_alg_values_supported"`
	APIKeyVerificationEndpoint                 string   `json:"keyward_api_key_verification_endpoint"`
	TokenExchangeSubjectTokenTypes             []string `json:"keyward_token_exchange_subject_token_types_supported"`
}

// discovery serves the provider metadata and the JWKS; it holds only the
// rendered document and the JWKS handler.
type discovery struct {
	base rendered     // one document for both well-known paths
	jwks http.Handler // nil: no JWKS route
	// resources, when set, adds protected_resources (RFC 9728 §4): the
	// registered resources, which change while the server runs.
	resources *resources.Cache

	mu   sync.Mutex               // one rendering at a time
	with atomic.Pointer[rendered] // base with the resources of with.set
}

// rendered is a document with its ETag, and the ETag and Content-Length
// header values shared by every answer (nothing changes a header value in
// place). With its length set, net/http sends the document (larger than
// its 2 KiB buffer) in one piece instead of chunked.
type rendered struct {
	set         *resources.Set // the snapshot it was rendered from (nil: base)
	doc         []byte
	tag         string
	tagValue    []string
	lengthValue []string
}

func newRendered(set *resources.Set, doc []byte) *rendered {
	tag := etag(doc)
	return &rendered{set: set, doc: doc, tag: tag, tagValue: []string{tag},
		lengthValue: []string{strconv.Itoa(len(doc))}}
}

// etag is the strong validator (RFC 9110 §8.8.3) of a rendered document.
func etag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
}

// newDiscovery renders the metadata of issuer once; idTokenAlgs are the
// ID-token algorithms with keys; requirePAR is the server-wide setting
// (RFC 9126 §5; a client's own requirement is not advertised here);
// registration is the registration_endpoint ("" while closed).
// uiLocales are the languages of the pages (OpenID Connect Discovery §3
// ui_locales_supported).
func newDiscovery(issuer string, idTokenAlgs []string, jwks http.Handler, requirePAR bool, registration string, uiLocales []string) (*discovery, error) {
	iss := issuer
	auth := []string{clients.AuthSecretBasic, clients.AuthSecretPost, clients.AuthPrivateKeyJWT}
	signing := slices.Clone(clients.SigningAlgs)
	algs := slices.Clone(idTokenAlgs)
	if !slices.Contains(algs, DefaultIDTokenAlg) {
		algs = append([]string{DefaultIDTokenAlg}, algs...)
	}
	doc := discoveryDoc{
		Issuer:                                     iss,
		AuthorizationEndpoint:                      iss + PathAuthorize,
		TokenEndpoint:                              iss + PathToken,
		JWKSURI:                                    iss + PathJWKS,
		UserinfoEndpoint:                           iss + PathUserinfo,
		IntrospectionEndpoint:                      iss + PathIntrospect,
		RevocationEndpoint:                         iss + PathRevoke,
		DeviceAuthorizationEndpoint:                iss + PathDeviceAuthorization,
		EndSessionEndpoint:                         iss + PathEndSession,
		ScopesSupported:                            []string{"openid", "profile", "email"},
		ResponseTypesSupported:                     []string{"code"},
		ResponseModesSupported:                     []string{"query"},
		GrantTypesSupported:                        []string{clients.GrantAuthorizationCode, clients.GrantClientCredentials, clients.GrantRefreshToken, clients.GrantTokenExchange, clients.GrantDeviceCode},
		SubjectTypesSupported:                      []string{"public"},
		IDTokenSigningAlgValuesSupported:           algs,
		TokenEndpointAuthMethodsSupported:          append(slices.Clone(auth), clients.AuthNone),
		TokenEndpointAuthSigningAlgValuesSupported: signing,
		IntrospectionEndpointAuthMethodsSupported:  auth,
		IntrospectionEndpointAuthSigningAlgs:       signing,
		RevocationEndpointAuthSigningAlgs:          signing,
		// Public clients revoke their own tokens with client_id (RFC 7009 §2.1).
		RevocationEndpointAuthMethodsSupported:     append(slices.Clone(auth), "none"),
		CodeChallengeMethodsSupported:              []string{"S256"},
		ClaimsSupported:                            []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "sid", "name", "preferred_username", "email", "email_verified", "updated_at", "acr", "amr"},
		PromptValuesSupported:                      []string{"none", "login", "consent"},
		UILocalesSupported:                         uiLocales,
		ACRValuesSupported:                         []string{ACRPassword, ACRMFA},
		AuthorizationResponseIssParameterSupported: true,
		PushedAuthorizationRequestEndpoint:         iss + PathPAR,
		RequirePushedAuthorizationRequests:         requirePAR,
		ClientIDMetadataDocumentSupported:          true, // cimd.go
		RegistrationEndpoint:                       registration,
		DPoPSigningAlgValuesSupported:              DPoPAlgValues(),
		APIKeyVerificationEndpoint:                 iss + PathVerifyKey,
		TokenExchangeSubjectTokenTypes:             []string{TokenTypeAPIKey},

		// OpenID Connect Back-Channel Logout 1.0 §2.1: logout tokens go to
		// each client's backchannel_logout_uri, with a sid that the ID
		// tokens carry too.
		BackchannelLogoutSupported:        true,
		BackchannelLogoutSessionSupported: true,
		// RFC 9101: request objects by value; request_uri only from PAR.
		RequestParameterSupported:              true,
		RequestObjectSigningAlgValuesSupported: signing,
	}
	// Compact: a fifth fewer bytes than indented, for every client that
	// fetches the document.
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return &discovery{base: *newRendered(nil, b), jwks: jwks}, nil
}

// mount registers both well-known metadata paths (OIDC Discovery §4, RFC
// 8414 §3) and the JWKS, readable from any origin.
func (d *discovery) mount(r gin.IRouter) {
	public := publicCORS("")
	r.GET(PathOIDCConfig, public, d.serve)
	r.GET(PathOAuthConfig, public, d.serve)
	r.OPTIONS(PathOIDCConfig, publicPreflight)
	r.OPTIONS(PathOAuthConfig, publicPreflight)
	if d.jwks != nil {
		jwks := []gin.HandlerFunc{publicCORS("ETag, Cache-Control"), gin.WrapH(d.jwks)}
		r.GET(PathJWKS, jwks...)
		r.HEAD(PathJWKS, jwks...)
		r.OPTIONS(PathJWKS, publicPreflight)
	}
}

// serve answers from the pre-rendered bytes, with their ETag; a request
// whose If-None-Match names it gets 304 Not Modified (RFC 9110 §13.1.2).
func (d *discovery) serve(c *gin.Context) {
	r := d.document(c.Request.Context())
	h := c.Writer.Header()
	h["Cache-Control"] = cacheOneHour
	h["Etag"] = r.tagValue
	if inm := c.Request.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, r.tag) {
		c.Status(http.StatusNotModified)
		return
	}
	h["Content-Type"] = jsonType
	h["Content-Length"] = r.lengthValue
	c.Status(http.StatusOK)
	c.Writer.Write(r.doc)
}

var jsonType = []string{"application/json"}

var cacheOneHour = []string{"public, max-age=3600"}

// etagMatch reports whether an If-None-Match value lists tag (or is *),
// comparing weakly as RFC 9110 §13.1.2 says.
func etagMatch(inm, tag string) bool {
	for _, t := range strings.Split(inm, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == tag {
			return true
		}
	}
	return false
}

// document returns the metadata with protected_resources (RFC 9728 §4:
// the resource identifiers of the protected resources this server issues
// tokens for) when any resource is registered. A store failure serves
// the last snapshot, or the document without the member.
func (d *discovery) document(ctx context.Context) *rendered {
	if d.resources == nil {
		return &d.base
	}
	set, _ := d.resources.Current(ctx)
	if len(set.URIs()) == 0 {
		return &d.base
	}
	if r := d.with.Load(); r != nil && r.set == set {
		return r
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if r := d.with.Load(); r != nil && r.set == set {
		return r
	}
	r := newRendered(set, withMember(d.base.doc, "protected_resources", set.URIs()))
	d.with.Store(r)
	return r
}

// withMember returns the JSON object doc with one more member, last,
// keeping the order of the others.
func withMember(doc []byte, name string, value any) []byte {
	v, err := json.Marshal(value)
	if err != nil {
		return doc
	}
	body := bytes.TrimRight(doc, " \n")
	if !bytes.HasSuffix(body, []byte("}")) {
		return doc
	}
	body = bytes.TrimRight(body[:len(body)-1], " \n")
	k, _ := json.Marshal(name)
	out := make([]byte, 0, len(body)+len(k)+len(v)+3)
	out = append(out, body...)
	if !bytes.HasSuffix(body, []byte("{")) {
		out = append(out, ',')
	}
	out = append(out, k...)
	out = append(out, ':')
	out = append(out, v...)
	return append(out, '}')
}
