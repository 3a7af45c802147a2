package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ErrNotSupported is returned when the discovery document does not
// advertise the endpoint a call needs.
var ErrNotSupported = errors.New("verify: endpoint not advertised by the issuer")

// ServerError is a non-200 answer from an issuer endpoint, carrying the
// OAuth error members (RFC 6749 §5.2) when the body has them.
type ServerError struct {
	StatusCode  int
	Code        string // "error", e.g. invalid_client
	Description string // "error_description"
}

func (e *ServerError) Error() string {
	s := fmt.Sprintf("verify: issuer answered HTTP %d", e.StatusCode)
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

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

// VerifyAPIKey asks the issuer whether key is valid (and, when
// requiredScope is not empty, grants that scope). The caller authenticates
// as a confidential client. Every call counts against the key's rate
// limit. An invalid key is not an error: the result has Valid false and a
// Code saying why; errors are for failed calls (*ServerError, ErrUnavailable).
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
	return &res, nil
}

// Introspect asks the issuer's introspection endpoint (RFC 7662) about
// token, authenticating as a confidential client, and returns the JSON
// object it answers. An inactive token is not an error: the map then
// holds "active": false. Unlike VerifyAccessToken this sees revocation.
func (v *Verifier) Introspect(ctx context.Context, clientID, clientSecret, token string) (map[string]any, error) {
	if v.introspectURI == "" {
		return nil, fmt.Errorf("%w: introspection_endpoint", ErrNotSupported)
	}
	form := url.Values{"token": {token}}
	var out map[string]any
	if err := v.post(ctx, v.introspectURI, clientID, clientSecret, "application/x-www-form-urlencoded",
		[]byte(form.Encode()), &out); err != nil {
		return nil, err
	}
	if _, ok := out["active"].(bool); !ok {
		return nil, fmt.Errorf("%w: introspection answer has no boolean active", ErrUnavailable)
	}
	return out, nil
}

// post POSTs body with HTTP Basic client authentication (RFC 6749 §2.3.1:
// id and secret form-encoded first) and decodes a 200 JSON answer into out.
func (v *Verifier) post(ctx context.Context, endpoint, clientID, clientSecret, contentType string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(clientSecret))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if resp.StatusCode != http.StatusOK {
		se := &ServerError{StatusCode: resp.StatusCode}
		var oe struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(data, &oe) == nil {
			se.Code, se.Description = oe.Error, oe.Description
		}
		return se
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%w: decode answer: %v", ErrUnavailable, err)
	}
	return nil
}
