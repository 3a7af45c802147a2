package keys

import (
	"encoding/json"
	"strings"
	"time"
)

// MarshalJSON encodes r as the body of POST /v1/apikeys/verify:
//
//	{"valid", "code", "key_id", "scope", "expires_at", "rate_limit": {"limit", "remaining", "reset"}}
//
// The members after code are present only when the key exists; scope is
// space-separated, times are RFC 3339, expires_at is null for a key that
// never expires and rate_limit is null for an unlimited key.
func (r Result) MarshalJSON() ([]byte, error) {
	if r.Key == nil {
		return json.Marshal(struct {
			Valid bool `json:"valid"`
			Code  Code `json:"code"`
		}{r.Valid, r.Code})
	}
	type rateLimit struct {
		Limit     int       `json:"limit"`
		Remaining int       `json:"remaining"`
		Reset     time.Time `json:"reset"`
	}
	out := struct {
		Valid     bool       `json:"valid"`
		Code      Code       `json:"code"`
		KeyID     string     `json:"key_id"`
		Scope     string     `json:"scope"`
		ExpiresAt *time.Time `json:"expires_at"`
		RateLimit *rateLimit `json:"rate_limit"`
	}{Valid: r.Valid, Code: r.Code, KeyID: r.Key.ID, Scope: strings.Join(r.Key.Scopes, " ")}
	if !r.Key.ExpiresAt.IsZero() {
		t := r.Key.ExpiresAt.UTC()
		out.ExpiresAt = &t
	}
	if r.RateLimit != nil {
		out.RateLimit = &rateLimit{r.RateLimit.Limit, r.RateLimit.Remaining, r.RateLimit.Reset.UTC()}
	}
	return json.Marshal(out)
}

var _ json.Marshaler = Result{}
