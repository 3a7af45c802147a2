package store

import (
	"context"
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
	Secret    []byte
	Enabled   bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// WebhookStore persists webhooks.
type WebhookStore interface {
	// CreateWebhook stores w; ErrConflict if its ID is taken.
	CreateWebhook(ctx context.Context, w *Webhook) error
	// GetWebhook returns the webhook or ErrNotFound.
	GetWebhook(ctx context.Context, id string) (*Webhook, error)
	// ListWebhooks returns one page ordered by ID and the next cursor.
	ListWebhooks(ctx context.Context, p Page) ([]*Webhook, string, error)
	// UpdateWebhook replaces every field but ID and CreatedAt; ErrNotFound.
	UpdateWebhook(ctx context.Context, w *Webhook) error
	// DeleteWebhook removes the webhook; ErrNotFound.
	DeleteWebhook(ctx context.Context, id string) error
}
