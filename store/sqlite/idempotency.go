package sqlite

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
	_, err := d.q(ctx).ExecContext(ctx, `INSERT INTO idempotency_keys
		(principal, key, request_hash, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		r.Principal, r.Key, r.RequestHash, r.Status, r.Body, micros(r.CreatedAt))
	return mapErr(err)
}

// GetIdempotencyRecord implements store.IdempotencyStore.
func (d *DB) GetIdempotencyRecord(ctx context.Context, principal, key string) (*store.IdempotencyRecord, error) {
	r := store.IdempotencyRecord{Principal: principal, Key: key}
	var created int64
	err := d.q(ctx).QueryRowContext(ctx, `SELECT request_hash, status, body, created_at FROM idempotency_keys
		WHERE principal = ? AND key = ?`, principal, key).Scan(&r.RequestHash, &r.Status, &r.Body, &created)
	if err != nil {
		return nil, mapErr(err)
	}
	r.CreatedAt = fromMicros(created)
	return &r, nil
}

// CompleteIdempotencyRecord implements store.IdempotencyStore.
func (d *DB) CompleteIdempotencyRecord(ctx context.Context, principal, key string, status int, body []byte) error {
	return affected(d.q(ctx).ExecContext(ctx, `UPDATE idempotency_keys SET status = ?, body = ?
		WHERE principal = ? AND key = ?`, status, body, principal, key))
}

// DeleteIdempotencyRecord implements store.IdempotencyStore.
func (d *DB) DeleteIdempotencyRecord(ctx context.Context, principal, key string) error {
	return affected(d.q(ctx).ExecContext(ctx, `DELETE FROM idempotency_keys WHERE principal = ? AND key = ?`,
		principal, key))
}

// PruneIdempotencyRecords implements store.IdempotencyStore.
func (d *DB) PruneIdempotencyRecords(ctx context.Context, before time.Time) (int64, error) {
	res, err := d.q(ctx).ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < ?`, micros(before))
	if err != nil {
		return 0, mapErr(err)
	}
	return res.RowsAffected()
}
