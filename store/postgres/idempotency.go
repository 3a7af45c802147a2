package postgres

import (
	"context"
	"time"

	"github.com/keyward/keyward/store"
)

// CreateIdempotencyRecord implements store.IdempotencyStore.
func (d *DB) CreateIdempotencyRecord(ctx context.Context, r *store.IdempotencyRecord) error {
	if r.CreatedAt.IsZero() {
		r.CreatedAt = d.now()
	}
	_, err := d.q(ctx).Exec(ctx, `INSERT INTO idempotency_keys
		(principal, key, request_hash, status, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		r.Principal, r.Key, r.RequestHash, r.Status, r.Body, r.CreatedAt)
	return mapErr(err)
}

// GetIdempotencyRecord implements store.IdempotencyStore.
func (d *DB) GetIdempotencyRecord(ctx context.Context, principal, key string) (*store.IdempotencyRecord, error) {
	r := store.IdempotencyRecord{Principal: principal, Key: key}
	err := d.q(ctx).QueryRow(ctx, `SELECT request_hash, status, body, created_at FROM idempotency_keys
		WHERE principal = $1 AND key = $2`, principal, key).Scan(&r.RequestHash, &r.Status, &r.Body, &r.CreatedAt)
	if err != nil {
		return nil, mapErr(err)
	}
	r.CreatedAt = r.CreatedAt.UTC()
	return &r, nil
}

// CompleteIdempotencyRecord implements store.IdempotencyStore.
func (d *DB) CompleteIdempotencyRecord(ctx context.Context, principal, key string, status int, body []byte) error {
	return affected(d.q(ctx).Exec(ctx, `UPDATE idempotency_keys SET status = $1, body = $2
		WHERE principal = $3 AND key = $4`, status, body, principal, key))
}

// DeleteIdempotencyRecord implements store.IdempotencyStore.
func (d *DB) DeleteIdempotencyRecord(ctx context.Context, principal, key string) error {
	return affected(d.q(ctx).Exec(ctx, `DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2`,
		principal, key))
}

// PruneIdempotencyRecords implements store.IdempotencyStore.
func (d *DB) PruneIdempotencyRecords(ctx context.Context, before time.Time) (int64, error) {
	tag, err := d.q(ctx).Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, before)
	if err != nil {
		return 0, mapErr(err)
	}
	return tag.RowsAffected(), nil
}
