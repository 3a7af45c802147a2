package admin

import (
	"time"

	"github.com/keyward/keyward/admin/webhooks"
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
	w.EventTypes = webhooks.UniqueTypes(w.EventTypes)
}

// validateWebhook reports every problem of w (webhooks.Validate: the
// console checks the same).
func validateWebhook(w *store.Webhook) []string {
	var probs []string
	for _, p := range webhooks.Validate(w) {
		probs = append(probs, p.Msg)
	}
	return probs
}
