package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/keyward/keyward/store"
)

var _ store.OutboxStore = (*DB)(nil)

// DueWebhooks implements store.OutboxStore.
func (d *DB) DueWebhooks(ctx context.Context, owner string, now time.Time, limit int) ([]string, error) {
	rows, err := d.q(ctx).Query(ctx, `SELECT w.id FROM webhooks w
		CROSS JOIN LATERAL (SELECT next_attempt_at FROM webhook_deliveries
			WHERE webhook_id = w.id AND status = 'pending' ORDER BY id LIMIT 1) h
		WHERE w.enabled AND h.next_attempt_at <= $1 AND (w.lease_until <= $1 OR w.lease_owner = $2)
		ORDER BY h.next_attempt_at LIMIT $3`, now, owner, limit)
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
	tag, err := d.q(ctx).Exec(ctx, `UPDATE webhooks SET lease_owner = $1, lease_until = $2
		WHERE id = $3 AND (lease_until <= $4 OR lease_owner = $1)`, owner, until, id, now)
	if err != nil {
		return false, mapErr(err)
	}
	return tag.RowsAffected() == 1, nil
}

// ReleaseWebhook implements store.OutboxStore.
func (d *DB) ReleaseWebhook(ctx context.Context, id, owner string) error {
	_, err := d.q(ctx).Exec(ctx, `UPDATE webhooks SET lease_owner = '', lease_until = 'epoch'
		WHERE id = $1 AND lease_owner = $2`, id, owner)
	return mapErr(err)
}

const deliveryColumns = `d.id, d.webhook_id, d.event_id, d.status, d.attempts, d.next_attempt_at,
	d.first_attempt_at, d.last_attempt_at, d.last_status, d.last_error, d.created_at`

func scanDelivery(s scanner, extra ...any) (*store.Delivery, error) {
	var (
		v             store.Delivery
		status        string
		next, created time.Time
		first, last   *time.Time
	)
	dest := append([]any{&v.ID, &v.WebhookID, &v.EventID, &status, &v.Attempts, &next,
		&first, &last, &v.LastStatus, &v.LastError, &created}, extra...)
	if err := s.Scan(dest...); err != nil {
		return nil, mapErr(err)
	}
	v.Status = store.DeliveryStatus(status)
	v.NextAttemptAt, v.CreatedAt = next.UTC(), created.UTC()
	v.FirstAttemptAt, v.LastAttemptAt = fromNullTime(first), fromNullTime(last)
	return &v, nil
}

// PendingDeliveries implements store.OutboxStore.
func (d *DB) PendingDeliveries(ctx context.Context, webhookID string, limit int) ([]*store.Delivery, error) {
	rows, err := d.q(ctx).Query(ctx, `SELECT `+deliveryColumns+`,
		e.id, e.type, e.actor, e.subject, e.data, e.created_at
		FROM webhook_deliveries d JOIN audit_events e ON e.id = d.event_id
		WHERE d.webhook_id = $1 AND d.status = 'pending' ORDER BY d.id LIMIT $2`, webhookID, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	return collect(rows, func(s scanner) (*store.Delivery, error) {
		var (
			e       store.AuditEvent
			data    []byte
			created time.Time
		)
		v, err := scanDelivery(s, &e.ID, &e.Type, &e.Actor, &e.Subject, &data, &created)
		if err != nil {
			return nil, err
		}
		e.Data, e.CreatedAt = data, created.UTC()
		v.Event = &e
		return v, nil
	})
}

// RecordAttempt implements store.OutboxStore.
func (d *DB) RecordAttempt(ctx context.Context, a *store.Attempt, r store.AttemptResult) error {
	tx, err := d.q(ctx).Begin(ctx)
	if err != nil {
		return mapErr(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var webhookID string
	if err := tx.QueryRow(ctx, `UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1,
		next_attempt_at = $2, first_attempt_at = coalesce(first_attempt_at, $3), last_attempt_at = $3,
		last_status = $4, last_error = $5 WHERE id = $6 RETURNING webhook_id`,
		string(r.Status), r.NextAttemptAt, a.AttemptedAt, a.StatusCode, a.Error, a.DeliveryID).Scan(&webhookID); err != nil {
		return mapErr(err)
	}
	if err := tx.QueryRow(ctx, `INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code,
		latency_us, error, response) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		a.DeliveryID, a.AttemptedAt, a.StatusCode, a.Latency.Microseconds(), a.Error, a.Response).Scan(&a.ID); err != nil {
		return mapErr(err)
	}
	if r.Status == store.DeliveryDelivered {
		_, err = tx.Exec(ctx, `UPDATE webhooks SET failing_since = NULL WHERE id = $1`, webhookID)
	} else {
		_, err = tx.Exec(ctx, `UPDATE webhooks SET failing_since = coalesce(failing_since, $1)
			WHERE id = $2`, a.AttemptedAt, webhookID)
	}
	if err != nil {
		return mapErr(err)
	}
	return mapErr(tx.Commit(ctx))
}

// GetDelivery implements store.OutboxStore.
func (d *DB) GetDelivery(ctx context.Context, webhookID string, id int64) (*store.Delivery, error) {
	return scanDelivery(d.q(ctx).QueryRow(ctx, `SELECT `+deliveryColumns+`
		FROM webhook_deliveries d WHERE d.webhook_id = $1 AND d.id = $2`, webhookID, id))
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
	rows, err := d.q(ctx).Query(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries d
		WHERE d.webhook_id = $1 AND d.id < $2 ORDER BY d.id DESC LIMIT $3`, webhookID, before, p.Limit)
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
	rows, err := d.q(ctx).Query(ctx, `SELECT id, delivery_id, attempted_at, status_code, latency_us,
		error, response FROM webhook_attempts WHERE delivery_id = $1 ORDER BY id`, deliveryID)
	if err != nil {
		return nil, mapErr(err)
	}
	return collect(rows, func(s scanner) (*store.Attempt, error) {
		var (
			a   store.Attempt
			at  time.Time
			lat int64
		)
		if err := s.Scan(&a.ID, &a.DeliveryID, &at, &a.StatusCode, &lat, &a.Error, &a.Response); err != nil {
			return nil, mapErr(err)
		}
		a.AttemptedAt, a.Latency = at.UTC(), time.Duration(lat)*time.Microsecond
		return &a, nil
	})
}

// Redeliver implements store.OutboxStore.
func (d *DB) Redeliver(ctx context.Context, webhookID, eventID string, since time.Time) (int, error) {
	tx, err := d.q(ctx).Begin(ctx)
	if err != nil {
		return 0, mapErr(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	w, err := scanWebhook(tx.QueryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = $1`, webhookID))
	if err != nil {
		return 0, err
	}
	q, arg := `SELECT id, type, actor, subject, data, created_at FROM audit_events WHERE id = $1`, any(eventID)
	if eventID == "" {
		q, arg = `SELECT id, type, actor, subject, data, created_at FROM audit_events
			WHERE created_at >= $1 ORDER BY created_at, id LIMIT `+strconv.Itoa(store.MaxRedeliver*4), since
	}
	rows, err := tx.Query(ctx, q, arg)
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
	var ids []string
	for _, e := range events {
		if len(ids) == store.MaxRedeliver {
			break
		}
		if eventID != "" || w.Selects(e) {
			ids = append(ids, e.ID)
		}
	}
	if len(ids) > 0 {
		now := d.now()
		if _, err := tx.Exec(ctx, `INSERT INTO webhook_deliveries (webhook_id, event_id, next_attempt_at, created_at)
			SELECT $1, e, $3, $3 FROM unnest($2::text[]) WITH ORDINALITY AS t(e, n) ORDER BY n`, webhookID, ids, now); err != nil {
			return 0, mapErr(err)
		}
	}
	return len(ids), mapErr(tx.Commit(ctx))
}

// OutboxStats implements store.OutboxStore.
func (d *DB) OutboxStats(ctx context.Context) (store.OutboxStats, error) {
	var (
		st     store.OutboxStats
		oldest *time.Time
	)
	err := d.q(ctx).QueryRow(ctx, `SELECT count(*), min(created_at) FROM webhook_deliveries
		WHERE status = 'pending'`).Scan(&st.Pending, &oldest)
	st.Oldest = fromNullTime(oldest)
	return st, mapErr(err)
}

// PruneDeliveries implements store.OutboxStore.
func (d *DB) PruneDeliveries(ctx context.Context, before time.Time) (int, error) {
	tag, err := d.q(ctx).Exec(ctx, `DELETE FROM webhook_deliveries
		WHERE status <> 'pending' AND created_at < $1`, before)
	if err != nil {
		return 0, mapErr(err)
	}
	return int(tag.RowsAffected()), nil
}
