package webhooks

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/keyward/keyward/store"
)

// The checks of a webhook that an admin sets, shared by the admin API and
// the console so that both accept and refuse the same.

// MaxEventTypes caps a webhook's event types.
const MaxEventTypes = 50

// DefaultSecretOverlap is how long a rotated webhook secret keeps signing
// beside the new one when the rotation does not say.
const DefaultSecretOverlap = 24 * time.Hour

// MaxSecretOverlap caps the overlap a rotation may ask for.
const MaxSecretOverlap = 30 * 24 * time.Hour

var eventTypePattern = regexp.MustCompile(`^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$`)

// Problem is one thing wrong with a webhook: the field ("url",
// "event_types" or "description") and a message that names it.
type Problem struct {
	Field string
	Msg   string
}

func (p Problem) String() string { return p.Msg }

// Validate reports every problem of w.
func Validate(w *store.Webhook) []Problem {
	var probs []Problem
	if err := ValidateURL(w.URL); err != nil {
		probs = append(probs, Problem{"url", fmt.Sprintf("url %q: %v", w.URL, err)})
	}
	if len(w.EventTypes) > MaxEventTypes {
		probs = append(probs, Problem{"event_types", fmt.Sprintf("event_types: at most %d", MaxEventTypes)})
	}
	for _, t := range w.EventTypes {
		if len(t) > 100 || !eventTypePattern.MatchString(t) {
			probs = append(probs, Problem{"event_types",
				fmt.Sprintf("event type %q: want a type such as client.created, a prefix such as client.*, or *", t)})
		}
	}
	if len(w.Description) > 500 || !utf8.ValidString(w.Description) {
		probs = append(probs, Problem{"description", "description: at most 500 characters of UTF-8"})
	}
	return probs
}

// UniqueTypes returns types without repeats, in their first order (nil
// for none).
func UniqueTypes(types []string) []string {
	var out []string
	for _, t := range types {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// ValidateURL accepts https URLs, and http ones only to a loopback host (a
// receiver on the same machine), never with credentials or a fragment.
func ValidateURL(raw string) error {
	if raw == "" || len(raw) > 2048 {
		return fmt.Errorf("required, at most 2048 characters")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("must be an absolute http(s) URL")
	}
	if u.User != nil {
		return fmt.Errorf("must not hold credentials")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("must not have a fragment")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); h == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
		return fmt.Errorf("http is allowed only to a loopback host; use https")
	}
	return fmt.Errorf("must be https (or http to a loopback host)")
}

// Rotate makes sealed w's signing secret; the current one keeps signing
// beside it until now+overlap (none when overlap is 0).
func Rotate(w *store.Webhook, sealed []byte, overlap time.Duration, now time.Time) {
	w.PreviousSecret, w.PreviousSecretUntil = nil, time.Time{}
	if overlap > 0 {
		w.PreviousSecret, w.PreviousSecretUntil = w.Secret, store.Truncate(now.Add(overlap))
	}
	w.Secret = sealed
}
