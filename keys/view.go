package keys

import (
	"strings"
	"time"
)

// View is the JSON form of an API key, the one the CLI prints and the
// admin API answers: the record, its public prefix, the scopes as a list
// (never null) and as one string, the rate limit as ParseRateLimit reads
// it ("100/1m"; "" for none), and the key itself only in the answer to a
// create or a roll.
type View struct {
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

// NewView renders k; raw, the key itself, is shown only when non-empty.
func NewView(k *APIKey, raw string) View {
	v := View{ID: k.ID, Key: raw, Prefix: k.Prefix(), Env: k.Env, Name: k.Name, Hint: k.Hint,
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

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
