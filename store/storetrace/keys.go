package storetrace

// The traced methods of keys.Store and keys.RateCounter.

import (
	"context"
	"time"

	"github.com/keyward/keyward/keys"
)

// CreateAPIKey traces keys.Store.CreateAPIKey.
func (d *DB) CreateAPIKey(ctx context.Context, k *keys.APIKey) error {
	ctx, tr := d.start(ctx, "CreateAPIKey")
	return tr.end(d.Inner.CreateAPIKey(ctx, k))
}

// GetAPIKey traces keys.Store.GetAPIKey.
func (d *DB) GetAPIKey(ctx context.Context, id string) (*keys.APIKey, error) {
	ctx, tr := d.start(ctx, "GetAPIKey")
	v, err := d.Inner.GetAPIKey(ctx, id)
	return v, tr.end(err)
}

// GetAPIKeys traces keys.BatchStore.GetAPIKeys.
func (d *DB) GetAPIKeys(ctx context.Context, ids []string) (map[string]*keys.APIKey, error) {
	ctx, tr := d.start(ctx, "GetAPIKeys")
	v, err := d.Inner.GetAPIKeys(ctx, ids)
	return v, tr.end(err)
}

// ListAPIKeys traces keys.Store.ListAPIKeys.
func (d *DB) ListAPIKeys(ctx context.Context, limit int, cursor string) ([]*keys.APIKey, string, error) {
	ctx, tr := d.start(ctx, "ListAPIKeys")
	v, next, err := d.Inner.ListAPIKeys(ctx, limit, cursor)
	return v, next, tr.end(err)
}

// SearchAPIKeys traces keys.Store.SearchAPIKeys.
func (d *DB) SearchAPIKeys(ctx context.Context, q string, limit int, cursor string) ([]*keys.APIKey, string, error) {
	ctx, tr := d.start(ctx, "SearchAPIKeys")
	v, next, err := d.Inner.SearchAPIKeys(ctx, q, limit, cursor)
	return v, next, tr.end(err)
}

// UpdateAPIKey traces keys.Store.UpdateAPIKey.
func (d *DB) UpdateAPIKey(ctx context.Context, k *keys.APIKey) error {
	ctx, tr := d.start(ctx, "UpdateAPIKey")
	return tr.end(d.Inner.UpdateAPIKey(ctx, k))
}

// SetAPIKeyDisabled traces keys.Store.SetAPIKeyDisabled.
func (d *DB) SetAPIKeyDisabled(ctx context.Context, id string, disabled bool) error {
	ctx, tr := d.start(ctx, "SetAPIKeyDisabled")
	return tr.end(d.Inner.SetAPIKeyDisabled(ctx, id, disabled))
}

// RevokeAPIKey traces keys.Store.RevokeAPIKey.
func (d *DB) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	ctx, tr := d.start(ctx, "RevokeAPIKey")
	return tr.end(d.Inner.RevokeAPIKey(ctx, id, at))
}

// RollAPIKey traces keys.Store.RollAPIKey.
func (d *DB) RollAPIKey(ctx context.Context, id string, digest []byte, hint string, graceUntil time.Time) error {
	ctx, tr := d.start(ctx, "RollAPIKey")
	return tr.end(d.Inner.RollAPIKey(ctx, id, digest, hint, graceUntil))
}

// DeleteAPIKey traces keys.Store.DeleteAPIKey.
func (d *DB) DeleteAPIKey(ctx context.Context, id string) error {
	ctx, tr := d.start(ctx, "DeleteAPIKey")
	return tr.end(d.Inner.DeleteAPIKey(ctx, id))
}

// RecordAPIKeyUsage traces keys.Store.RecordAPIKeyUsage.
func (d *DB) RecordAPIKeyUsage(ctx context.Context, usage []keys.Usage) error {
	ctx, tr := d.start(ctx, "RecordAPIKeyUsage")
	return tr.end(d.Inner.RecordAPIKeyUsage(ctx, usage))
}

// AddAPIKeyHits traces keys.RateCounter.AddAPIKeyHits.
func (d *DB) AddAPIKeyHits(ctx context.Context, hits []keys.Hits) ([]int64, error) {
	ctx, tr := d.start(ctx, "AddAPIKeyHits")
	v, err := d.Inner.AddAPIKeyHits(ctx, hits)
	return v, tr.end(err)
}

// PruneAPIKeyHits traces keys.RateCounter.PruneAPIKeyHits.
func (d *DB) PruneAPIKeyHits(ctx context.Context, t time.Time) error {
	ctx, tr := d.start(ctx, "PruneAPIKeyHits")
	return tr.end(d.Inner.PruneAPIKeyHits(ctx, t))
}
