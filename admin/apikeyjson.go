package admin

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/keyward/keyward/keys"
)

// apiKeyView is the JSON form of an API key: the record, its public
// prefix, the scopes also as one string (as the CLI prints them), and the
// key itself only in the answer to a create or a roll.
type apiKeyView struct {
	ID         string            `json:"id"`
	Key        string            `json:"key,omitempty"`
	Prefix     string            `json:"prefix"`
	Env        string            `json:"env"`
	Name       string            `json:"name"`
	Hint       string            `json:"hint"`
	OwnerType  string            `json:"owner_type,omitempty"`
	OwnerID    string            `json:"owner_id,omitempty"`
	Scopes     []string          `json:"scopes"`
	Scope      string            `json:"scope"`
	Metadata   map[string]string `json:"metadata"`
	RateLimit  string            `json:"rate_limit"`
	ExpiresAt  *time.Time        `json:"expires_at"`
	Disabled   bool              `json:"disabled"`
	Revoked    bool              `json:"revoked"`
	RevokedAt  *time.Time        `json:"revoked_at,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
	LastUsedAt *time.Time        `json:"last_used_at,omitempty"`
	UsageCount int64             `json:"usage_count"`
}

func newAPIKeyView(k *keys.APIKey, raw string) apiKeyView {
	v := apiKeyView{ID: k.ID, Key: raw, Prefix: k.Prefix(), Env: k.Env, Name: k.Name, Hint: k.Hint,
		OwnerType: k.OwnerType, OwnerID: k.OwnerID, Scopes: k.Scopes, Scope: strings.Join(k.Scopes, " "),
		Metadata: k.Metadata, RateLimit: k.RateLimit.String(), ExpiresAt: timePtr(k.ExpiresAt),
		Disabled: k.Disabled, Revoked: k.Revoked(), RevokedAt: timePtr(k.RevokedAt),
		CreatedAt: k.CreatedAt, UpdatedAt: k.UpdatedAt, LastUsedAt: timePtr(k.LastUsedAt), UsageCount: k.UsageCount}
	if v.Scopes == nil {
		v.Scopes = []string{}
	}
	if v.Metadata == nil {
		v.Metadata = map[string]string{}
	}
	return v
}

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
