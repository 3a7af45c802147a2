package keys

import (
	"slices"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on API-key properties.
const (
	MaxNameLen       = 200
	MaxScopes        = 100
	MaxMetadataPairs = 50
	MaxMetadataKey   = 40
	MaxMetadataValue = 500
)

// CreateParams describes a new key.
type CreateParams struct {
	Name string
	// OwnerType is "", OwnerUser or OwnerClient; OwnerID is required with
	// it. The store does not check that the owner exists.
	OwnerType string
	OwnerID   string
	Scopes    []string
	// ExpiresIn or ExpiresAt (not both) sets an expiry; neither: never.
	ExpiresIn time.Duration
	ExpiresAt time.Time
	Metadata  map[string]string
	RateLimit RateLimit
}

// UpdateParams changes the fields that are non-nil.
type UpdateParams struct {
	Name      *string
	Scopes    *[]string
	Metadata  *map[string]string
	RateLimit *RateLimit
	// ExpiresAt replaces the expiry; a pointer to the zero time removes it.
	ExpiresAt *time.Time
}

// expiry resolves ExpiresIn/ExpiresAt at now.
func (p CreateParams) expiry(now time.Time) (time.Time, error) {
	switch {
	case p.ExpiresIn != 0 && !p.ExpiresAt.IsZero():
		return time.Time{}, invalidf("both ExpiresIn and ExpiresAt")
	case p.ExpiresIn < 0:
		return time.Time{}, invalidf("negative expiry")
	case p.ExpiresIn > 0:
		return truncate(now.Add(p.ExpiresIn)), nil
	}
	return truncate(p.ExpiresAt), nil
}

func (p CreateParams) validate() error {
	if err := validateName(p.Name); err != nil {
		return err
	}
	switch p.OwnerType {
	case "":
		if p.OwnerID != "" {
			return invalidf("owner id without owner type")
		}
	case OwnerUser, OwnerClient:
		if p.OwnerID == "" || len(p.OwnerID) > 200 {
			return invalidf("owner type %s needs an owner id", p.OwnerType)
		}
	default:
		return invalidf("owner type %q: want %q or %q", p.OwnerType, OwnerUser, OwnerClient)
	}
	if err := validateScopes(p.Scopes); err != nil {
		return err
	}
	if err := validateMetadata(p.Metadata); err != nil {
		return err
	}
	return p.RateLimit.validate()
}

func validateName(name string) error {
	if name == "" || len(name) > MaxNameLen || !utf8.ValidString(name) ||
		containsFunc(name, unicode.IsControl) {
		return invalidf("name must be 1 to %d printable characters", MaxNameLen)
	}
	return nil
}

// validateScopes checks each scope is an RFC 6749 §3.3 scope-token.
func validateScopes(scopes []string) error {
	if len(scopes) > MaxScopes {
		return invalidf("more than %d scopes", MaxScopes)
	}
	for _, s := range scopes {
		if s == "" || len(s) > 200 {
			return invalidf("empty or overlong scope")
		}
		for i := range len(s) {
			if c := s[i]; c < 0x21 || c == '"' || c == '\\' || c > 0x7e {
				return invalidf("scope %q: not an RFC 6749 scope-token", s)
			}
		}
	}
	return nil
}

func validateMetadata(m map[string]string) error {
	if len(m) > MaxMetadataPairs {
		return invalidf("more than %d metadata entries", MaxMetadataPairs)
	}
	for k, v := range m {
		if k == "" || len(k) > MaxMetadataKey || len(v) > MaxMetadataValue ||
			!utf8.ValidString(k) || !utf8.ValidString(v) {
			return invalidf("metadata keys are 1 to %d bytes, values at most %d, UTF-8", MaxMetadataKey, MaxMetadataValue)
		}
	}
	return nil
}

func containsFunc(s string, f func(rune) bool) bool {
	for _, r := range s {
		if f(r) {
			return true
		}
	}
	return false
}

// dedupe returns scopes without repeats, in their first order.
func dedupe(scopes []string) []string {
	var out []string
	for _, s := range scopes {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// truncate gives t the precision every store keeps (UTC microseconds).
func truncate(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}
