package keys

import (
	"fmt"
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
		return time.Time{}, fmt.Errorf("%w: both ExpiresIn and ExpiresAt", ErrInvalid)
	case p.ExpiresIn < 0:
		return time.Time{}, fmt.Errorf("%w: negative expiry", ErrInvalid)
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
			return fmt.Errorf("%w: owner id without owner type", ErrInvalid)
		}
	case OwnerUser, OwnerClient:
		if p.OwnerID == "" || len(p.OwnerID) > 200 {
			return fmt.Errorf("%w: owner type %s needs an owner id", ErrInvalid, p.OwnerType)
		}
	default:
		return fmt.Errorf("%w: owner type %q: want %q or %q", ErrInvalid, p.OwnerType, OwnerUser, OwnerClient)
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
		return fmt.Errorf("%w: name must be 1 to %d printable characters", ErrInvalid, MaxNameLen)
	}
	return nil
}

// validateScopes checks each scope is an RFC 6749 §3.3 scope-token.
func validateScopes(scopes []string) error {
	if len(scopes) > MaxScopes {
		return fmt.Errorf("%w: more than %d scopes", ErrInvalid, MaxScopes)
	}
	for _, s := range scopes {
		if s == "" || len(s) > 200 {
			return fmt.Errorf("%w: empty or overlong scope", ErrInvalid)
		}
		for i := range len(s) {
			if c := s[i]; c < 0x21 || c == '"' || c == '\\' || c > 0x7e {
				return fmt.Errorf("%w: scope %q: not an RFC 6749 scope-token", ErrInvalid, s)
			}
		}
	}
	return nil
}

func validateMetadata(m map[string]string) error {
	if len(m) > MaxMetadataPairs {
		return fmt.Errorf("%w: more than %d metadata entries", ErrInvalid, MaxMetadataPairs)
	}
	for k, v := range m {
		if k == "" || len(k) > MaxMetadataKey || len(v) > MaxMetadataValue ||
			!utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("%w: metadata keys are 1 to %d bytes, values at most %d, UTF-8",
				ErrInvalid, MaxMetadataKey, MaxMetadataValue)
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
