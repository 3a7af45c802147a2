package store

import (
	"context"
	"strings"
	"time"
)

// Webhook is an endpoint that receives audit events as they happen: an
// HTTP POST of the event's JSON, signed with the webhook's secret.
type Webhook struct {
	ID string
	// URL is https, or http to a loopback host.
	URL string
	// EventTypes selects the events delivered: exact types
	// ("client.created"), prefixes ("client.*") or "*". Empty means all.
	EventTypes  []string
	Description string
	// Secret is the signing secret as the admin package sealed it; the
	// store keeps it opaque.
	Secret []byte
	// PreviousSecret is the secret before the last rotation, sealed like
	// Secret; deliveries carry its signature too until PreviousSecretUntil.
	PreviousSecret      []byte
	PreviousSecretUntil time.Time
	Enabled             bool
	// FailingSince is when the current run of failed delivery attempts
	// began (zero: the last attempt succeeded). Only deliveries set it;
	// UpdateWebhook clears it when it enables a disabled webhook.
	FailingSince time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Selects reports whether w's EventTypes select e: an exact type
// ("client.created"), a prefix ("client.*") or "*"; empty selects every
// type. A "webhook.test" event goes only to the webhook it names.
func (w *Webhook) Selects(e *AuditEvent) bool {
	if e.Type == WebhookTestEvent {
		return e.Subject == w.ID
	}
	if len(w.EventTypes) == 0 {
		return true
	}
	for _, t := range w.EventTypes {
		if t == "*" || t == e.Type {
			return true
		}
		if p, ok := strings.CutSuffix(t, ".*"); ok && strings.HasPrefix(e.Type, p+".") {
			return true
		}
	}
	return false
}

// WebhookTestEvent is the type of the event an admin sends to one
// webhook to try it; it is delivered to that webhook (its Subject) only.
const WebhookTestEvent = "webhook.test"

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

const (
	// DeliveryPending is waiting for its first or next attempt.
	DeliveryPending DeliveryStatus = "pending"
	// DeliveryDelivered was answered 2xx.
	DeliveryDelivered DeliveryStatus = "delivered"
	// DeliveryFailed ran out of retries.
	DeliveryFailed DeliveryStatus = "failed"
)

// Delivery is one audit event to deliver to one webhook: a row of the
// outbox. Deliveries of a webhook go out in ID order.
type Delivery struct {
	ID             int64
	WebhookID      string
	EventID        string
	Status         DeliveryStatus
	Attempts       int
	NextAttemptAt  time.Time
	FirstAttemptAt time.Time // zero until the first attempt
	LastAttemptAt  time.Time
	LastStatus     int // the HTTP status of the last attempt (0: none)
	LastError      string
	CreatedAt      time.Time
	// Event is the audit event, filled by PendingDeliveries.
	Event *AuditEvent
}

// Attempt is one try at a delivery, for the delivery log.
type Attempt struct {
	ID          int64
	DeliveryID  int64
	AttemptedAt time.Time
	StatusCode  int // 0: no HTTP answer
	Latency     time.Duration
	Error       string
	// Response is the start of the answer's body (at most
	// MaxResponseExcerpt bytes).
	Response string
}

// MaxResponseExcerpt caps Attempt.Response.
const MaxResponseExcerpt = 1024

// AttemptResult is what an attempt changes in its delivery.
type AttemptResult struct {
	Status DeliveryStatus
	// NextAttemptAt is when a pending delivery is tried again.
	NextAttemptAt time.Time
}

// OutboxStats describes the deliveries waiting.
type OutboxStats struct {
	Pending int
	// Oldest is when the oldest pending delivery was created (zero: none).
	Oldest time.Time
}

// WebhookStore persists webhooks.
type WebhookStore interface {
	// CreateWebhook stores w; ErrConflict if its ID is taken.
	CreateWebhook(ctx context.Context, w *Webhook) error
	// GetWebhook returns the webhook or ErrNotFound.
	GetWebhook(ctx context.Context, id string) (*Webhook, error)
	// ListWebhooks returns one page ordered by ID and the next cursor.
	// Page.Search looks in the id, URL and description.
	ListWebhooks(ctx context.Context, p Page) ([]*Webhook, string, error)
	// UpdateWebhook replaces every field but ID and CreatedAt; ErrNotFound.
	UpdateWebhook(ctx context.Context, w *Webhook) error
	// DeleteWebhook removes the webhook and its deliveries; ErrNotFound.
	DeleteWebhook(ctx context.Context, id string) error
	OutboxStore
}

// OutboxStore keeps the webhook deliveries. AuditStore.AppendAudit fills
// it: in the transaction that appends an event, one pending delivery for
// each enabled webhook that Selects it.
type OutboxStore interface {
	// DueWebhooks returns up to limit enabled webhooks whose first pending
	// delivery is due at now and whose lease is free or owner's.
	DueWebhooks(ctx context.Context, owner string, now time.Time, limit int) ([]string, error)
	// LeaseWebhook takes or extends the webhook's delivery lease for owner
	// until until; false when another owner holds an unexpired lease.
	LeaseWebhook(ctx context.Context, id, owner string, now, until time.Time) (bool, error)
	// ReleaseWebhook gives up owner's lease on the webhook.
	ReleaseWebhook(ctx context.Context, id, owner string) error
	// PendingDeliveries returns the webhook's first pending deliveries in
	// ID order, with their events.
	PendingDeliveries(ctx context.Context, webhookID string, limit int) ([]*Delivery, error)
	// RecordAttempt stores a (its DeliveryID names the delivery; ID is set)
	// and applies r to the delivery; the webhook's FailingSince is cleared
	// by a delivered attempt and set by the first failed one of a run.
	RecordAttempt(ctx context.Context, a *Attempt, r AttemptResult) error
	// GetDelivery returns one delivery of the webhook; ErrNotFound.
	GetDelivery(ctx context.Context, webhookID string, id int64) (*Delivery, error)
	// ListDeliveries returns one page of the webhook's deliveries, newest
	// first; the cursor is the last ID, in decimal.
	ListDeliveries(ctx context.Context, webhookID string, p Page) ([]*Delivery, string, error)
	// ListAttempts returns a delivery's attempts, oldest first.
	ListAttempts(ctx context.Context, deliveryID int64) ([]*Attempt, error)
	// Redeliver queues new deliveries to the webhook: of the event eventID
	// when it is set (ErrNotFound if there is none), else of every event
	// since since that the webhook Selects (at most MaxRedeliver). It
	// returns how many it queued.
	Redeliver(ctx context.Context, webhookID, eventID string, since time.Time) (int, error)
	// OutboxStats counts the pending deliveries.
	OutboxStats(ctx context.Context) (OutboxStats, error)
	// PruneDeliveries deletes delivered and failed deliveries (with their
	// attempts) created before before, and returns how many.
	PruneDeliveries(ctx context.Context, before time.Time) (int, error)
}

// MaxRedeliver caps the deliveries one Redeliver since a time queues.
const MaxRedeliver = 10000
