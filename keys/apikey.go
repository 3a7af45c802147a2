package keys

import (
	"slices"
	"strings"
	"time"
)

// Owner types of an API key. An empty OwnerType means the key belongs to
// the deployment itself (created by an operator).
const (
	OwnerUser   = "user"
	OwnerClient = "client"
)

// APIKey is the stored record of one API key. The raw key itself is never
// stored: only its keyed digests (Secrets).
//
// Records handed out by Service.Verify and Service.Inspect must not be
// modified: their scope lists are shared with the cache. Each record's
// strings share one allocation with it (the key cache's slabKey), so a
// caller that keeps one of them beyond the request (a map key, say) keeps
// a copy (strings.Clone), or it keeps the whole record in memory.
type APIKey struct {
	// ID is the public identifier embedded in the key string; it never
	// changes, not even when the key is rolled.
	ID string `json:"id"`
	// Env is EnvLive or EnvTest, also embedded in the key string.
	Env  string `json:"env"`
	Name string `json:"name"`
	// Hint shows the key's prefix and last four characters, for display.
	Hint      string            `json:"hint"`
	OwnerType string            `json:"owner_type,omitempty"`
	OwnerID   string            `json:"owner_id,omitempty"`
	Scopes    []string          `json:"scopes"`
	Metadata  map[string]string `json:"metadata,omitempty"`
	RateLimit RateLimit         `json:"rate_limit"`
	// ExpiresAt is the zero time for a key that never expires.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Disabled  bool      `json:"disabled"`
	// RevokedAt is the zero time for a key that is not revoked.
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
	UsageCount int64     `json:"usage_count"`

	// Secrets are the digests that verify against this key: exactly one
	// current (ValidUntil zero) and any earlier ones still within the grace
	// period of a roll. GetAPIKey fills it; ListAPIKeys leaves it nil.
	Secrets []SecretDigest `json:"-"`
}

// VerificationView is k with only what verification, introspection and
// token exchange read, which is what the key cache keeps and what
// BatchStore.GetAPIKeys must read: the descriptive fields (Name, Hint,
// Metadata, CreatedAt, UpdatedAt, LastUsedAt, UsageCount) are zero.
func (k *APIKey) VerificationView() *APIKey {
	return &APIKey{ID: k.ID, Env: k.Env, OwnerType: k.OwnerType, OwnerID: k.OwnerID, Scopes: k.Scopes,
		RateLimit: k.RateLimit, ExpiresAt: k.ExpiresAt, Disabled: k.Disabled, RevokedAt: k.RevokedAt, Secrets: k.Secrets}
}

// Prefix returns the public part of the key string, "kw_<env>_<id>".
func (k *APIKey) Prefix() string { return prefix(k.Env, k.ID) }

// Revoked reports whether the key was revoked.
func (k *APIKey) Revoked() bool { return !k.RevokedAt.IsZero() }

// Expired reports whether the key has expired at now.
func (k *APIKey) Expired(now time.Time) bool {
	return !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt)
}

// HasScope reports whether the key holds scope.
func (k *APIKey) HasScope(scope string) bool {
	for _, s := range k.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// SecretDigest is the keyed digest of one secret of a key.
type SecretDigest struct {
	// Digest is HMAC-SHA-256 of the whole key string under the key derived
	// for PurposeAPIKey.
	Digest []byte
	// ValidUntil is zero for the current secret; for a rolled-over secret it
	// is the end of its grace period.
	ValidUntil time.Time
	CreatedAt  time.Time
}

// Current reports whether d is the key's current secret.
func (d SecretDigest) Current() bool { return d.ValidUntil.IsZero() }

// Usage is a batch of verifications of one key, added to its usage count
// and last-used time by Store.RecordAPIKeyUsage.
type Usage struct {
	ID         string
	Count      int64
	LastUsedAt time.Time
}

// MergeUsage returns usage with each key once: the counts of an id that
// appears more than once added up and its latest LastUsedAt kept, in the
// order ids first appear. Without repeats it returns usage itself. Stores
// that write a batch in one statement, where an id twice would be
// updated once, merge with it first.
func MergeUsage(usage []Usage) []Usage {
	at := make(map[string]int, len(usage))
	var out []Usage
	for i, u := range usage {
		j, seen := at[u.ID]
		if !seen {
			at[u.ID] = len(at)
			if out != nil {
				out = append(out, u)
			}
			continue
		}
		if out == nil {
			out = append(make([]Usage, 0, len(usage)), usage[:i]...)
		}
		out[j].Count += u.Count
		if u.LastUsedAt.After(out[j].LastUsedAt) {
			out[j].LastUsedAt = u.LastUsedAt
		}
	}
	if out == nil {
		return usage
	}
	return out
}

// SortedUsage is MergeUsage's batch in id order, a copy (usage is left as
// it was). Both stores write a batch so: concurrent flushes of two
// instances lock rows in one order, and the lookups of a large batch walk
// the tables' B-trees page by page instead of at random.
func SortedUsage(usage []Usage) []Usage {
	out := MergeUsage(usage)
	if len(out) > 0 && &out[0] == &usage[0] {
		out = slices.Clone(out)
	}
	slices.SortFunc(out, func(a, b Usage) int { return strings.Compare(a.ID, b.ID) })
	return out
}
