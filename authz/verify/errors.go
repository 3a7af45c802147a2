package verify

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors, for errors.Is. Every rejection of a credential that is
// answered 401 matches ErrInvalidToken and the sentinel of the check that
// failed; ErrInsufficientScope and ErrRateLimited are answered 403 and
// 429; ErrUnavailable means the issuer could not be asked, not that the
// credential is bad.
var (
	// ErrInvalidToken matches every rejected access token or API key.
	ErrInvalidToken = errors.New("verify: invalid token")

	// The check that failed; each also matches ErrInvalidToken.
	ErrMalformed   = errors.New("verify: malformed token")     // not a compact JWS, or a claim missing or of the wrong type
	ErrTokenType   = errors.New("verify: wrong token type")    // typ is not at+jwt; a refresh token or API key where an access token belongs
	ErrSignature   = errors.New("verify: bad signature")       // also matched by ErrUnknownKey
	ErrUnknownKey  = errors.New("verify: unknown signing key") // the kid is not in the issuer's JWKS
	ErrIssuer      = errors.New("verify: wrong issuer")        // iss
	ErrAudience    = errors.New("verify: wrong audience")      // aud
	ErrExpired     = errors.New("verify: expired")             // exp, or an API key's expiry
	ErrNotYetValid = errors.New("verify: not yet valid")       // nbf or iat in the future
	ErrRevoked     = errors.New("verify: revoked or inactive") // introspection answered active false; a revoked API key
	ErrKeyNotFound = errors.New("verify: API key not found")   // unknown, malformed or of another environment

	// ErrNoCredentials: the request carries no token or key at all
	// (RFC 6750 §3.1: answered 401 without an error code).
	ErrNoCredentials = errors.New("verify: no credentials")
	// ErrInsufficientScope: a valid credential without a required scope
	// (RFC 6750 §3.1: 403). Always a *ScopeError.
	ErrInsufficientScope = errors.New("verify: insufficient scope")
	// ErrRateLimited: a valid API key whose rate limit is used up (429).
	ErrRateLimited = errors.New("verify: rate limited")
	// ErrUnavailable: the issuer could not be reached or answered
	// something unusable; the credential may well be good.
	ErrUnavailable = errors.New("verify: issuer unavailable")
	// ErrNotSupported: the discovery document does not advertise the
	// endpoint a call needs.
	ErrNotSupported = errors.New("verify: endpoint not advertised by the issuer")
	// ErrNoClientCredentials: a call to the issuer needs Config.ClientID
	// and Config.ClientSecret, and they are not set.
	ErrNoClientCredentials = errors.New("verify: Config.ClientID and Config.ClientSecret are required")
)

// TokenError is the rejection of an access token. Check is the sentinel of
// the check that failed (ErrMalformed, ErrTokenType, ErrSignature,
// ErrUnknownKey, ErrIssuer, ErrAudience, ErrExpired, ErrNotYetValid or
// ErrRevoked); Detail says more for logs (claim values, parser errors)
// and is never sent to the client by this package's middlewares.
type TokenError struct {
	Check  error
	Detail string
}

func (e *TokenError) Error() string {
	if e.Detail == "" {
		return e.Check.Error()
	}
	return e.Check.Error() + ": " + e.Detail
}

// Is matches Check, ErrInvalidToken, and ErrSignature for ErrUnknownKey
// (a token signed by a key the issuer does not publish has no valid
// signature).
func (e *TokenError) Is(target error) bool {
	return target == e.Check || target == ErrInvalidToken || (e.Check == ErrUnknownKey && target == ErrSignature)
}

func newTokenError(check error, detail string) error {
	return &TokenError{Check: check, Detail: detail}
}

func malformed(format string, args ...any) error {
	return &TokenError{Check: ErrMalformed, Detail: fmt.Sprintf(format, args...)}
}

// ScopeError is a valid access token or API key that lacks a required
// scope. It matches ErrInsufficientScope.
type ScopeError struct {
	Required []string // every scope that was required
	Missing  []string // those the credential lacks

	apiKey bool // the credential is an API key
}

func (e *ScopeError) Error() string {
	return "verify: insufficient scope: missing " + strings.Join(e.Missing, " ")
}

// Is matches ErrInsufficientScope.
func (e *ScopeError) Is(target error) bool { return target == ErrInsufficientScope }

// checkScopes returns a *ScopeError unless granted holds every one of required.
func checkScopes(required []string, has func(string) bool) error {
	var missing []string
	for _, s := range required {
		if !has(s) {
			missing = append(missing, s)
		}
	}
	if missing == nil {
		return nil
	}
	return &ScopeError{Required: required, Missing: missing}
}

// APIKeyError is an API key the issuer refused. Code is the verification
// endpoint's code (NOT_FOUND, REVOKED, EXPIRED, RATE_LIMITED); Result is
// its whole answer (nil when the key was refused without asking, e.g. a
// malformed key). It matches ErrKeyNotFound, ErrRevoked or ErrExpired
// together with ErrInvalidToken, or ErrRateLimited.
type APIKeyError struct {
	Code   string
	Result *APIKeyResult
}

func (e *APIKeyError) Error() string { return "verify: API key refused: " + e.Code }

// Is matches the sentinel of Code.
func (e *APIKeyError) Is(target error) bool {
	switch e.Code {
	case CodeRateLimited:
		return target == ErrRateLimited
	case CodeRevoked:
		return target == ErrRevoked || target == ErrInvalidToken
	case CodeExpired:
		return target == ErrExpired || target == ErrInvalidToken
	case CodeInsufficientScope:
		return target == ErrInsufficientScope
	}
	return target == ErrKeyNotFound || target == ErrInvalidToken
}
