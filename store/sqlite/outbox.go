package sqlite

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/keyward/keyward/store"
)

var _ store.OutboxStore = (*DB)(nil)

// DueWebhooks implements store.OutboxStore.
func (d *DB) DueWebhooks(ctx context.Context, owner string, now time.Time, limit int) ([]string, error) {
	rows, err := d.q(ctx).QueryContext(ctx, `SELECT w.id FROM webhooks w
		JOIN webhook_deliveries h ON h.id = (SELECT min(id) FROM webhook_deliveries
			WHERE webhook_id = w.id AND status = 'pending')
		WHERE w.enabled = 1 AND h.next_attempt_at <= ? AND (w.lease_until <= ? OR w.lease_owner = ?)
		ORDER BY h.next_attempt_at LIMIT ?`, micros(now), micros(now), owner, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	return collect(rows, func(s scanner) (string, error) {
		var id string
		return id, mapErr(s.Scan(&id))
	})
}

// LeaseWebhook implements store.OutboxStore.
func (d *DB) LeaseWebhook(ctx context.Context, id, owner string, now, until time.Time) (bool, error) {
	res, err := d.q(ctx).ExecContext(ctx, `UPDATE webhooks SET lease_owner = ?, lease_until = ?
		WHERE id = ? AND (lease_until <= ? OR lease_owner = ?)`, owner, micros(until), id, micros(now), owner)
	if err != nil {
		return false, mapErr(err)
	}
	n, err := res.RowsAffected()
	return n == 1, mapErr(err)
}

// ReleaseWebhook implements store.OutboxStore.
func (d *DB) ReleaseWebhook(ctx context.Context, id, owner string) error {
	_, err := d.q(ctx).ExecContext(ctx, `UPDATE webhooks SET lease_owner = '', lease_until = 0
		WHERE id = ? AND lease_owner = ?`, id, owner)
	return mapErr(err)
}

const deliveryColumns = `d.id, d.webhook_id, d.event_id, d.status, d.attempts, d.next_attempt_at,
	d.first_attempt_at, d.last_attempt_at, d.last_status, d.last_error, d.created_at`

func scanDelivery(s scanner, extra ...any) (*store.Delivery, error) {
	var (
		v             store.Delivery
		status        string
		next, created int64
		first, last   sql.NullInt64
	)
	dest := append([]any{&v.ID, &v.WebhookID, &v.EventID, &status, &v.Attempts, &next,
		&first, &last, &v.LastStatus, &v.LastError, &created}, extra...)
	if err := s.Scan(dest...); err != nil {
		return nil, mapErr(err)
	}
	v.Status = store.DeliveryStatus(status)
	v.NextAttemptAt, v.CreatedAt = fromMicros(next), fromMicros(created)
	v.FirstAttemptAt, v.LastAttemptAt = fromNullMicros(first), fromNullMicros(last)
	return &v, nil
}

// PendingDeliveries implements store.OutboxStore.
func (d *DB) PendingDeliveries(ctx context.Context, webhookID string, limit int) ([]*store.Delivery, error) {
	rows, err := d.q(ctx).QueryContext(ctx, `SELECT `+deliveryColumns+`,
		e.id, e.type, e.actor, e.subject, e.data, e.created_at
		FROM webhook_deliveries d JOIN audit_events e ON e.id = d.event_id
		WHERE d.webhook_id = ? AND d.status = 'pending' ORDER BY d.id LIMIT ?`, webhookID, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	return collect(rows, func(s scanner) (*store.Delivery, error) {
		var (
			e       store.AuditEvent
			data    string
			created int64
		)
		v, err := scanDelivery(s, &e.ID, &e.Type, &e.Actor, &e.Subject, &data, &created)
		if err != nil {
			return nil, err
		}
		e.Data, e.CreatedAt = []byte(data), fromMicros(created)
		v.Event = &e
		return v, nil
	})
}

// RecordAttempt implements store.OutboxStore.
func (d *DB) RecordAttempt(ctx context.Context, a *store.Attempt, r store.AttemptResult) error {
	tx, err := d.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	at := micros(a.AttemptedAt)
	var webhookID string
	if err := tx.QueryRowContext(ctx, `UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1,
		next_attempt_at = ?, first_attempt_at = coalesce(first_attempt_at, ?), last_attempt_at = ?,
		last_status = ?, last_error = ? WHERE id = ? RETURNING webhook_id`,
		string(r.Status), micros(r.NextAttemptAt), at, at, a.StatusCode, a.Error, a.DeliveryID).Scan(&webhookID); err != nil {
		return mapErr(err)
	}
	if err := tx.QueryRowContext(ctx, `INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code,
		latency_us, error, response) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		a.DeliveryID, at, a.StatusCode, a.Latency.Microseconds(), a.Error, a.Response).Scan(&a.ID); err != nil {
		return mapErr(err)
	}
	if r.Status == store.DeliveryDelivered {
		_, err = tx.ExecContext(ctx, `UPDATE webhooks SET failing_since = NULL WHERE id = ?`, webhookID)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE webhooks SET failing_since = coalesce(failing_since, ?)
			WHERE id = ?`, at, webhookID)
	}
	if err != nil {
		return mapErr(err)
	}
	return tx.Commit()
}

// GetDelivery implements store.OutboxStore.
func (d *DB) GetDelivery(ctx context.Context, webhookID string, id int64) (*store.Delivery, error) {
	return scanDelivery(d.q(ctx).QueryRowContext(ctx, `SELECT `+deliveryColumns+`
		FROM webhook_deliveries d WHERE d.webhook_id = ? AND d.id = ?`, webhookID, id))
}

// ListDeliveries implements store.OutboxStore.
func (d *DB) ListDeliveries(ctx context.Context, webhookID string, p store.Page) ([]*store.Delivery, string, error) {
	p = p.Normalize()
	before := int64(1<<63 - 1)
	if p.Cursor != "" {
		n, err := strconv.ParseInt(p.Cursor, 10, 64)
		if err != nil {
			return nil, "", store.Invalid("cursor: not a delivery cursor")
		}
		before = n
	}
	rows, err := d.q(ctx).QueryContext(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries d
		WHERE d.webhook_id = ? AND d.id < ? ORDER BY d.id DESC LIMIT ?`, webhookID, before, p.Limit)
	if err != nil {
		return nil, "", mapErr(err)
	}
	items, err := collect(rows, func(s scanner) (*store.Delivery, error) { return scanDelivery(s) })
	if err != nil {
		return nil, "", err
	}
	items, next := store.PageOf(p, items, func(v *store.Delivery) string { return strconv.FormatInt(v.ID, 10) })
	return items, next, nil
}

// ListAttempts implements store.OutboxStore.
func (d *DB) ListAttempts(ctx context.Context, deliveryID int64) ([]*store.Attempt, error) {
	rows, err := d.q(ctx).QueryContext(ctx, `SELECT id, delivery_id, attempted_at, status_code, latency_us,
		error, response FROM webhook_attempts WHERE delivery_id = ? ORDER BY id`, deliveryID)
	if err != nil {
		return nil, mapErr(err)
	}
	return collect(rows, func(s scanner) (*store.Attempt, error) {
		var (
			a       store.Attempt
			at, lat int64
		)
		if err := s.Scan(&a.ID, &a.DeliveryID, &at, &a.StatusCode, &lat, &a.Error, &a.Response); err != nil {
			return nil, mapErr(err)
		}
		a.AttemptedAt, a.Latency = fromMicros(at), time.Duration(lat)*time.Microsecond
		return &a, nil
	})
}

// Redeliver implements store.OutboxStore.
func (d *DB) Redeliver(ctx context.Context, webhookID, eventID string, since time.Time) (int, error) {
	tx, err := d.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	w, err := scanWebhook(tx.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`, webhookID))
	if err != nil {
		return 0, err
	}
	var rows *sql.Rows
	if eventID != "" {
		rows, err = tx.QueryContext(ctx, `SELECT id, type, actor, subject, data, created_at
			FROM audit_events WHERE id = ?`, eventID)
	} else {
		rows, err = tx.QueryContext(ctx, `SELECT id, type, actor, subject, data, created_at
			FROM audit_events WHERE created_at >= ? ORDER BY created_at, id LIMIT ?`, micros(since), store.MaxRedeliver*4)
	}
	if err != nil {
		return 0, mapErr(err)
	}
	events, err := collect(rows, scanAudit)
	if err != nil {
		return 0, err
	}
	if eventID != "" && len(events) == 0 {
		return 0, store.ErrNotFound
	}
	now := micros(d.now())
	n := 0
	for _, e := range events {
		if eventID == "" && !w.Selects(e) {
			continue
		}
		if n == store.MaxRedeliver {
			break
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (webhook_id, event_id, next_attempt_at, created_at)
			VALUES (?, ?, ?, ?)`, webhookID, e.ID, now, now); err != nil {
			return 0, mapErr(err)
		}
		n++
	}
	return n, tx.Commit()
}

// OutboxStats implements store.OutboxStore.
func (d *DB) OutboxStats(ctx context.Context) (store.OutboxStats, error) {
	var (
		st     store.OutboxStats
		oldest sql.NullInt64
	)
	err := d.q(ctx).QueryRowContext(ctx, `SELECT count(*), min(created_at) FROM webhook_deliveries
		WHERE status = 'pending'`).Scan(&st.Pending, &oldest)
	st.Oldest = fromNullMicros(oldest)
	return st, mapErr(err)
}

// PruneDeliveries implements store.OutboxStore.
func (d *DB) PruneDeliveries(ctx context.Context, before time.Time) (int, error) {
	res, err := d.q(ctx).ExecContext(ctx, `DELETE FROM webhook_deliveries
		WHERE status <> 'pending' AND created_at < ?`, micros(before))
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr(err)
}
