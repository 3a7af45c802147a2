package storetrace

// The traced methods of store.OutboxStore.

import (
	"context"
	"time"

	"github.com/keyward/keyward/store"
)

// DueWebhooks traces store.OutboxStore.DueWebhooks.
func (d *DB) DueWebhooks(ctx context.Context, owner string, now time.Time, limit int) ([]string, error) {
	ctx, tr := d.start(ctx, "DueWebhooks")
	v, err := d.Inner.DueWebhooks(ctx, owner, now, limit)
	return v, tr.end(err)
}

// LeaseWebhook traces store.OutboxStore.LeaseWebhook.
func (d *DB) LeaseWebhook(ctx context.Context, id, owner string, now, until time.Time) (bool, error) {
	ctx, tr := d.start(ctx, "LeaseWebhook")
	v, err := d.Inner.LeaseWebhook(ctx, id, owner, now, until)
	return v, tr.end(err)
}

// ReleaseWebhook traces store.OutboxStore.ReleaseWebhook.
func (d *DB) ReleaseWebhook(ctx context.Context, id, owner string) error {
	ctx, tr := d.start(ctx, "ReleaseWebhook")
	return tr.end(d.Inner.ReleaseWebhook(ctx, id, owner))
}

// PendingDeliveries traces store.OutboxStore.PendingDeliveries.
func (d *DB) PendingDeliveries(ctx context.Context, webhookID string, limit int) ([]*store.Delivery, error) {
	ctx, tr := d.start(ctx, "PendingDeliveries")
	v, err := d.Inner.PendingDeliveries(ctx, webhookID, limit)
	return v, tr.end(err)
}

// RecordAttempt traces store.OutboxStore.RecordAttempt.
func (d *DB) RecordAttempt(ctx context.Context, a *store.Attempt, r store.AttemptResult) error {
	ctx, tr := d.start(ctx, "RecordAttempt")
	return tr.end(d.Inner.RecordAttempt(ctx, a, r))
}

// GetDelivery traces store.OutboxStore.GetDelivery.
func (d *DB) GetDelivery(ctx context.Context, webhookID string, id int64) (*store.Delivery, error) {
	ctx, tr := d.start(ctx, "GetDelivery")
	v, err := d.Inner.GetDelivery(ctx, webhookID, id)
	return v, tr.end(err)
}

// ListDeliveries traces store.OutboxStore.ListDeliveries.
func (d *DB) ListDeliveries(ctx context.Context, webhookID string, p store.Page) ([]*store.Delivery, string, error) {
	ctx, tr := d.start(ctx, "ListDeliveries")
	v, next, err := d.Inner.ListDeliveries(ctx, webhookID, p)
	return v, next, tr.end(err)
}

// ListAttempts traces store.OutboxStore.ListAttempts.
func (d *DB) ListAttempts(ctx context.Context, deliveryID int64) ([]*store.Attempt, error) {
	ctx, tr := d.start(ctx, "ListAttempts")
	v, err := d.Inner.ListAttempts(ctx, deliveryID)
	return v, tr.end(err)
}

// Redeliver traces store.OutboxStore.Redeliver.
func (d *DB) Redeliver(ctx context.Context, webhookID, eventID string, since time.Time) (int, error) {
	ctx, tr := d.start(ctx, "Redeliver")
	v, err := d.Inner.Redeliver(ctx, webhookID, eventID, since)
	return v, tr.end(err)
}

// OutboxStats traces store.OutboxStore.OutboxStats.
func (d *DB) OutboxStats(ctx context.Context) (store.OutboxStats, error) {
	ctx, tr := d.start(ctx, "OutboxStats")
	v, err := d.Inner.OutboxStats(ctx)
	return v, tr.end(err)
}

// PruneDeliveries traces store.OutboxStore.PruneDeliveries.
func (d *DB) PruneDeliveries(ctx context.Context, before time.Time) (int, error) {
	ctx, tr := d.start(ctx, "PruneDeliveries")
	v, err := d.Inner.PruneDeliveries(ctx, before)
	return v, tr.end(err)
}
