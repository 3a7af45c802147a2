package authz

import (
	"bytes"
	"encoding/json"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/clients"
)

// Observer is told what the endpoints did, for metrics (cmd/keyward
// implements it with Prometheus; authz imports no metrics library).
// Every string it is given is one of the fixed sets below, never a value a
// client chose, so an implementation may use them as label values and
// resolve its series once, up front. Its methods run on the request path:
// they must be fast, safe for concurrent use and never block.
// Config.Observer nil observes nothing, at no cost.
type Observer interface {
	// TokenIssued counts a successful token response (RFC 6749 §5.1);
	// grant is one of Grants.
	TokenIssued(grant string)
	// TokenRefused counts a token error response (RFC 6749 §5.2,
	// including 429 and 503 answers); grant is one of Grants, code one of
	// TokenErrors.
	TokenRefused(grant, code string)
	// Introspected counts an introspection answer (RFC 7662): tokenType
	// is one of TokenTypes, result one of IntrospectionResults.
	Introspected(tokenType, result string)
	// RateLimited counts a request refused by one of Limiters.
	RateLimited(limiter string)
	// Login counts a password sign-in on the login page (surface
	// SurfaceLoginPage); the outcome is one of accounts.LoginOutcomes.
	accounts.LoginObserver
	// CacheLookup counts a lookup in one of Caches: hit when it was
	// answered from memory.
	CacheLookup(cache string, hit bool)
}

// Grant label values of Observer: the grant types the token endpoint
// knows, shortened; any other value a client sends is GrantOther.
const (
	GrantLabelAuthorizationCode = "authorization_code"
	GrantLabelClientCredentials = "client_credentials"
	GrantLabelRefreshToken      = "refresh_token"
	GrantLabelTokenExchange     = "token_exchange"
	GrantLabelDeviceCode        = "device_code"
	GrantLabelOther             = "other"
)

// Grants is every grant label value, for implementations that resolve
// their series up front.
var Grants = []string{GrantLabelAuthorizationCode, GrantLabelClientCredentials, GrantLabelRefreshToken,
	GrantLabelTokenExchange, GrantLabelDeviceCode, GrantLabelOther}

// grantDeviceCode is RFC 8628's grant type.
const grantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// grantLabel maps a grant_type parameter to its label value.
func grantLabel(grant string) string {
	switch grant {
	case clients.GrantAuthorizationCode:
		return GrantLabelAuthorizationCode
	case clients.GrantClientCredentials:
		return GrantLabelClientCredentials
	case clients.GrantRefreshToken:
		return GrantLabelRefreshToken
	case clients.GrantTokenExchange:
		return GrantLabelTokenExchange
	case grantDeviceCode:
		return GrantLabelDeviceCode
	}
	return GrantLabelOther
}

// TokenErrors is every error label value of TokenRefused: the error codes
// of RFC 6749 §5.2, RFC 8707 (invalid_target), RFC 9449
// (invalid_dpop_proof), RFC 8628 §3.5, and the codes Keyward answers with
// 429 (slow_down) and 503 (temporarily_unavailable). Anything else is
// "other".
var TokenErrors = []string{"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
	"unsupported_grant_type", "invalid_scope", "invalid_target", "invalid_dpop_proof", "access_denied",
	"authorization_pending", "expired_token", "slow_down", "temporarily_unavailable", "server_error", "other"}

// errorLabel maps an OAuth error code to a value of TokenErrors.
func errorLabel(code string) string {
	for _, e := range TokenErrors {
		if e == code {
			return e
		}
	}
	return "other"
}

// Token type label values of Introspected: what the token looked like.
const (
	TokenTypeLabelAccessToken  = "access_token"
	TokenTypeLabelRefreshToken = "refresh_token"
	TokenTypeLabelAPIKey       = "api_key"
	TokenTypeLabelUnknown      = "unknown" // no format Keyward issues
)

// TokenTypes is every token type label value of Introspected.
var TokenTypes = []string{TokenTypeLabelAccessToken, TokenTypeLabelRefreshToken, TokenTypeLabelAPIKey, TokenTypeLabelUnknown}

// Result label values of Introspected.
const (
	IntrospectionActive      = "active"
	IntrospectionInactive    = "inactive"
	IntrospectionUnavailable = "unavailable" // a store failure: 503, no answer
)

// IntrospectionResults is every result label value of Introspected.
var IntrospectionResults = []string{IntrospectionActive, IntrospectionInactive, IntrospectionUnavailable}

// Limiter label values of RateLimited.
const (
	// LimiterTokenEndpoint is the per-client token-endpoint rate limit
	// (Config.TokenRate).
	LimiterTokenEndpoint = "token_endpoint"
	// LimiterClientAuth is the throttle of failed client authentication.
	LimiterClientAuth = "client_auth"
	// LimiterLogin is the login page's backoff after failed passwords.
	LimiterLogin = "login"
)

// Limiters is every limiter label value of RateLimited.
var Limiters = []string{LimiterTokenEndpoint, LimiterClientAuth, LimiterLogin}

// SurfaceLoginPage is the surface label value of Login for the login page.
const SurfaceLoginPage = "login_page"

// Cache label values of CacheLookup.
const (
	// CacheClients is the in-process client cache (authz/clients.Cache).
	CacheClients = "clients"
	// CacheJWTVerify is the cache of verified JWT access tokens.
	CacheJWTVerify = "jwt_verify"
	// CacheOpaqueIntrospect is the cache of opaque tokens' introspection
	// answers.
	CacheOpaqueIntrospect = "opaque_introspect"
)

// Caches is every cache label value of CacheLookup.
var Caches = []string{CacheClients, CacheJWTVerify, CacheOpaqueIntrospect}

// LogErrorKey is the gin context key under which the endpoints leave the
// OAuth error code of an error answer ("invalid_grant", …), so the access
// log can print it; it is never set on success.
const LogErrorKey = "keyward.oauth_error"

// noteError leaves code for the access log (LogErrorKey).
func noteError(c *gin.Context, code string) { c.Set(LogErrorKey, code) }

// errorCode reads the "error" member of an error answer's JSON body, or "".
func errorCode(body []byte) string {
	if !bytes.Contains(body, []byte(`"error"`)) {
		return ""
	}
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	return e.Error
}

// noObserver observes nothing: Config.Observer's nil.
type noObserver struct{}

func (noObserver) TokenIssued(string)          {}
func (noObserver) TokenRefused(string, string) {}
func (noObserver) Introspected(string, string) {}
func (noObserver) RateLimited(string)          {}
func (noObserver) Login(string, string)        {}
func (noObserver) CacheLookup(string, bool)    {}

var _ Observer = noObserver{}
