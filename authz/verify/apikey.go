package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The codes of the API-key verification endpoint (POST /v1/apikeys/verify).
const (
	CodeValid             = "VALID"
	CodeNotFound          = "NOT_FOUND"
	CodeRevoked           = "REVOKED"
	CodeExpired           = "EXPIRED"
	CodeRateLimited       = "RATE_LIMITED"
	CodeInsufficientScope = "INSUFFICIENT_SCOPE"
)

// APIKeyResult mirrors the body of the API-key verification endpoint. The
// members after Code are set only when the key exists; ExpiresAt is nil
// for a key that never expires and RateLimit nil for an unlimited key.
type APIKeyResult struct {
	Valid     bool       `json:"valid"`
	Code      string     `json:"code"`
	KeyID     string     `json:"key_id"`
	Scope     string     `json:"scope"` // space-separated
	ExpiresAt *time.Time `json:"expires_at"`
	RateLimit *RateLimit `json:"rate_limit"`
}

// RateLimit is a key's rate-limit state after the verification call.
type RateLimit struct {
	Limit     int       `json:"limit"`
	Remaining int       `json:"remaining"`
	Reset     time.Time `json:"reset"`
}

// Scopes returns Scope split on spaces.
func (r *APIKeyResult) Scopes() []string { return strings.Fields(r.Scope) }

// HasScope reports whether the key holds scope s.
func (r *APIKeyResult) HasScope(s string) bool { return r != nil && slices.Contains(r.Scopes(), s) }

// VerifyAPIKey asks the issuer whether key is valid (and, when
// requiredScope is not empty, grants every space-separated scope in it).
// The caller authenticates as a confidential client. Every call counts
// against the key's rate limit, and nothing is cached: resource servers
// usually want APIKeys (NewAPIKeys) instead. An invalid key is not an
// error: the result has Valid false and a Code saying why; errors are for
// failed calls (*ServerError, ErrUnavailable, ErrNotSupported).
func (v *Verifier) VerifyAPIKey(ctx context.Context, clientID, clientSecret, key, requiredScope string) (*APIKeyResult, error) {
	if v.apiKeyURI == "" {
		return nil, fmt.Errorf("%w: keyward_api_key_verification_endpoint", ErrNotSupported)
	}
	body, err := json.Marshal(struct {
		Key           string `json:"key"`
		RequiredScope string `json:"required_scope,omitempty"`
	}{key, requiredScope})
	if err != nil {
		return nil, err
	}
	var res APIKeyResult
	if err := v.post(ctx, v.apiKeyURI, clientID, clientSecret, "application/json", body, &res); err != nil {
		return nil, err
	}
	if res.Code == "" {
		return nil, fmt.Errorf("%w: API-key answer has no code", ErrUnavailable)
	}
	return &res, nil
}
