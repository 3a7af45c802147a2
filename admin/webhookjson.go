package admin

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

// The JSON forms of a webhook, and the checks of what a client sends.

// webhookView is the JSON form of a webhook; the secret only in the
// answer to a create or a secret rotation.
type webhookView struct {
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	EventTypes  []string `json:"event_types"`
	Description string   `json:"description"`
	Enabled     bool     `json:"enabled"`
	Secret      string   `json:"secret,omitempty"`
	// FailingSince is when its current run of failed attempts began.
	FailingSince *time.Time `json:"failing_since,omitempty"`
	// PreviousSecretUntil is when the secret before the last rotation
	// stops signing deliveries.
	PreviousSecretUntil *time.Time `json:"previous_secret_until,omitempty"`
	CreatedAt           time.Time  `json:"created_at"`
	UpdatedAt           time.Time  `json:"updated_at"`
}

func newWebhookView(w *store.Webhook, secret string) webhookView {
	types := w.EventTypes
	if types == nil {
		types = []string{}
	}
	v := webhookView{ID: w.ID, URL: w.URL, EventTypes: types, Description: w.Description,
		Enabled: w.Enabled, Secret: secret, FailingSince: timePtr(w.FailingSince), CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
	if len(w.PreviousSecret) > 0 && time.Now().Before(w.PreviousSecretUntil) {
		v.PreviousSecretUntil = timePtr(w.PreviousSecretUntil)
	}
	return v
}

// deliveryView is the JSON form of a delivery in the delivery log.
type deliveryView struct {
	ID             int64         `json:"id"`
	EventID        string        `json:"event_id"`
	Status         string        `json:"status"`
	Attempts       int           `json:"attempts"`
	NextAttemptAt  *time.Time    `json:"next_attempt_at,omitempty"`
	FirstAttemptAt *time.Time    `json:"first_attempt_at,omitempty"`
	LastAttemptAt  *time.Time    `json:"last_attempt_at,omitempty"`
	LastStatus     int           `json:"last_status,omitempty"`
	LastError      string        `json:"last_error,omitempty"`
	CreatedAt      time.Time     `json:"created_at"`
	AttemptsLog    []attemptView `json:"attempt_log,omitempty"`
}

func newDeliveryView(d *store.Delivery) deliveryView {
	v := deliveryView{ID: d.ID, EventID: d.EventID, Status: string(d.Status), Attempts: d.Attempts,
		FirstAttemptAt: timePtr(d.FirstAttemptAt), LastAttemptAt: timePtr(d.LastAttemptAt),
		LastStatus: d.LastStatus, LastError: d.LastError, CreatedAt: d.CreatedAt}
	if d.Status == store.DeliveryPending {
		v.NextAttemptAt = timePtr(d.NextAttemptAt)
	}
	return v
}

// attemptView is one attempt at a delivery.
type attemptView struct {
	AttemptedAt time.Time `json:"attempted_at"`
	StatusCode  int       `json:"status_code"`
	LatencyMS   float64   `json:"latency_ms"`
	Error       string    `json:"error,omitempty"`
	Response    string    `json:"response"`
}

func newAttemptView(a *store.Attempt) attemptView {
	return attemptView{AttemptedAt: a.AttemptedAt, StatusCode: a.StatusCode,
		LatencyMS: float64(a.Latency.Microseconds()) / 1000, Error: a.Error, Response: a.Response}
}

// webhookInput is the body of POST and PATCH /webhooks.
type webhookInput struct {
	URL         *string   `json:"url"`
	EventTypes  *[]string `json:"event_types"`
	Description *string   `json:"description"`
	Enabled     *bool     `json:"enabled"`
}

func (in webhookInput) apply(w *store.Webhook) {
	setIf(&w.URL, in.URL)
	setIf(&w.EventTypes, in.EventTypes)
	setIf(&w.Description, in.Description)
	setIf(&w.Enabled, in.Enabled)
	var types []string
	for _, t := range w.EventTypes {
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	w.EventTypes = types
}

const maxEventTypes = 50

var eventTypePattern = regexp.MustCompile(`^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$`)

// validateWebhook reports every problem of w.
func validateWebhook(w *store.Webhook) []string {
	var probs []string
	if err := validateWebhookURL(w.URL); err != nil {
		probs = append(probs, fmt.Sprintf("url %q: %v", w.URL, err))
	}
	if len(w.EventTypes) > maxEventTypes {
		probs = append(probs, fmt.Sprintf("event_types: at most %d", maxEventTypes))
	}
	for _, t := range w.EventTypes {
		if len(t) > 100 || !eventTypePattern.MatchString(t) {
			probs = append(probs, fmt.Sprintf("event type %q: want a type such as client.created, a prefix such as client.*, or *", t))
		}
	}
	if len(w.Description) > 500 || !utf8.ValidString(w.Description) {
		probs = append(probs, "description: at most 500 characters of UTF-8")
	}
	return probs
}

// validateWebhookURL accepts https URLs, and http ones only to a loopback
// host (a receiver on the same machine), never with credentials or a
// fragment.
func validateWebhookURL(raw string) error {
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
