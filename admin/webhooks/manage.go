package webhooks

import (
	"context"
	"time"

	"github.com/keyward/keyward/store"
)

// The changes an admin makes to webhooks, shared by the admin API and the
// console: each is one transaction with its audit event (Auditor.Atomic),
// then wakes the dispatcher, since a change may leave deliveries due.

func eventData(w *store.Webhook) map[string]any {
	return map[string]any{"url": w.URL, "event_types": w.EventTypes, "enabled": w.Enabled}
}

// change runs fn in a transaction that records an event, then wakes the
// dispatcher.
func (d *Dispatcher) change(ctx context.Context, fn func(ctx context.Context) error) error {
	if err := d.cfg.Auditor.Atomic(ctx, fn); err != nil {
		return err
	}
	d.Wake()
	return nil
}

// Create stores w (checked by the caller) with a new signing secret and
// records webhook.created; it returns the secret, to show once.
func (d *Dispatcher) Create(ctx context.Context, w *store.Webhook) (secret string, err error) {
	secret, w.Secret = d.NewSecret(w.ID)
	err = d.change(ctx, func(ctx context.Context) error {
		if err := d.cfg.Store.CreateWebhook(ctx, w); err != nil {
			return err
		}
		return d.cfg.Auditor.Record(ctx, "webhook.created", w.ID, eventData(w))
	})
	return secret, err
}

// Update applies edit to webhook id and saves it with webhook.updated, in
// one transaction; an error from edit (its checks) changes nothing.
func (d *Dispatcher) Update(ctx context.Context, id string, edit func(*store.Webhook) error) (*store.Webhook, error) {
	var w *store.Webhook
	err := d.change(ctx, func(ctx context.Context) error {
		var err error
		if w, err = d.cfg.Store.GetWebhook(ctx, id); err != nil {
			return err
		}
		if err := edit(w); err != nil {
			return err
		}
		if err := d.cfg.Store.UpdateWebhook(ctx, w); err != nil {
			return err
		}
		return d.cfg.Auditor.Record(ctx, "webhook.updated", w.ID, eventData(w))
	})
	return w, err
}

// Delete removes webhook id (its deliveries and their log go with it) and
// records webhook.deleted.
func (d *Dispatcher) Delete(ctx context.Context, id string) error {
	return d.change(ctx, func(ctx context.Context) error {
		if err := d.cfg.Store.DeleteWebhook(ctx, id); err != nil {
			return err
		}
		return d.cfg.Auditor.Record(ctx, "webhook.deleted", id, nil)
	})
}

// RotateSecret gives webhook id a new signing secret (Rotate: the current
// one keeps signing for overlap) and records webhook.secret_rotated; it
// returns the webhook and the secret, to show once.
func (d *Dispatcher) RotateSecret(ctx context.Context, id string, overlap time.Duration) (*store.Webhook, string, error) {
	var (
		w      *store.Webhook
		secret string
	)
	err := d.change(ctx, func(ctx context.Context) error {
		var err error
		if w, err = d.cfg.Store.GetWebhook(ctx, id); err != nil {
			return err
		}
		var sealed []byte
		secret, sealed = d.NewSecret(w.ID)
		Rotate(w, sealed, overlap, d.cfg.Now())
		if err := d.cfg.Store.UpdateWebhook(ctx, w); err != nil {
			return err
		}
		return d.cfg.Auditor.Record(ctx, "webhook.secret_rotated", w.ID, map[string]any{"overlap": overlap.String()})
	})
	return w, secret, err
}

// Redeliver queues event eventID, or every event since since that the
// webhook selects, for webhook id again (store.OutboxStore.Redeliver),
// records webhook.redelivery_requested, and returns how many it queued.
func (d *Dispatcher) Redeliver(ctx context.Context, id, eventID string, since time.Time) (int, error) {
	data := map[string]any{}
	if eventID != "" {
		data["event_id"] = eventID
	} else {
		data["since"] = since
	}
	var n int
	err := d.change(ctx, func(ctx context.Context) error {
		var err error
		if n, err = d.cfg.Store.Redeliver(ctx, id, eventID, since); err != nil {
			return err
		}
		data["queued"] = n
		return d.cfg.Auditor.Record(ctx, "webhook.redelivery_requested", id, data)
	})
	return n, err
}

// SendTest records a webhook.test event, delivered to webhook id only;
// store.ErrInvalid while the webhook is disabled.
func (d *Dispatcher) SendTest(ctx context.Context, id string) error {
	return d.change(ctx, func(ctx context.Context) error {
		w, err := d.cfg.Store.GetWebhook(ctx, id)
		if err != nil {
			return err
		}
		if !w.Enabled {
			return store.Invalid("the webhook is disabled: enable it to send a test event")
		}
		return d.cfg.Auditor.Record(ctx, store.WebhookTestEvent, id, map[string]any{"url": w.URL})
	})
}
