package admin

import (
	"encoding/json"
	"time"
)

// apiKeyInput is the body of POST /apikeys. Scopes are given as an array
// (scopes) or a space-separated string (scope), not both; the expiry as a
// lifetime (expires_in) or a time (expires_at), not both.
type apiKeyInput struct {
	Name      string            `json:"name"`
	Scopes    []string          `json:"scopes"`
	Scope     *string           `json:"scope"`
	ExpiresIn *duration         `json:"expires_in"`
	ExpiresAt *time.Time        `json:"expires_at"`
	RateLimit rateLimit         `json:"rate_limit"`
	Metadata  map[string]string `json:"metadata"`
	OwnerType string            `json:"owner_type"`
	OwnerID   string            `json:"owner_id"`
}

// apiKeyPatch is the body of PATCH /apikeys/{id}: the given fields
// change; "expires_at": null removes the expiry.
type apiKeyPatch struct {
	Name      *string            `json:"name"`
	Scopes    *[]string          `json:"scopes"`
	Scope     *string            `json:"scope"`
	Metadata  *map[string]string `json:"metadata"`
	RateLimit *rateLimit         `json:"rate_limit"`
	ExpiresAt json.RawMessage    `json:"expires_at"`
}

// rollInput is the body of POST /apikeys/{id}/roll.
type rollInput struct {
	// GracePeriod is how long the previous key keeps working (default 24h,
	// as `keyward apikeys roll`; "0s" ends it at once).
	GracePeriod *duration `json:"grace_period"`
}

// defaultRollGrace is the grace period of a roll that names none.
const defaultRollGrace = 24 * time.Hour
