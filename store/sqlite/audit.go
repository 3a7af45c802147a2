package sqlite

import (
	"context"

	"github.com/keyward/keyward/store"
)

// AppendAudit implements store.AuditStore: the event and its webhook
// deliveries in one transaction (a savepoint inside the caller's).
func (d *DB) AppendAudit(ctx context.Context, e *store.AuditEvent) error {
	if e.CreatedAt.IsZero() {
		e.CreatedAt = d.now()
	}
	data := string(e.Data)
	if data == "" {
		data = "{}"
	}
	tx, err := d.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit_events (id, type, actor, subject, data, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, e.ID, e.Type, e.Actor, e.Subject, data, micros(e.CreatedAt)); err != nil {
		return mapErr(err)
	}
	hooks, err := selecting(ctx, tx, e)
	if err != nil {
		return err
	}
	for _, id := range hooks {
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (webhook_id, event_id, next_attempt_at, created_at)
			VALUES (?, ?, ?, ?)`, id, e.ID, micros(e.CreatedAt), micros(e.CreatedAt)); err != nil {
			return mapErr(err)
		}
	}
	return tx.Commit()
}

// selecting returns the enabled webhooks that select e.
func selecting(ctx context.Context, q conn, e *store.AuditEvent) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, event_types FROM webhooks WHERE enabled = 1 ORDER BY id`)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var (
			w     store.Webhook
			types string
		)
		if err := rows.Scan(&w.ID, &types); err != nil {
			return nil, mapErr(err)
		}
		if err := parseList(types, &w.EventTypes); err != nil {
			return nil, err
		}
		if w.Selects(e) {
			ids = append(ids, w.ID)
		}
	}
	return ids, mapErr(rows.Err())
}

// ListAudit implements store.AuditStore.
func (d *DB) ListAudit(ctx context.Context, p store.Page) ([]*store.AuditEvent, string, error) {
	p = p.Normalize()
	rows, err := d.q(ctx).QueryContext(ctx, `SELECT id, type, actor, subject, data, created_at
		FROM audit_events WHERE id > ? ORDER BY id LIMIT ?`, p.Cursor, p.Limit)
	if err != nil {
		return nil, "", mapErr(err)
	}
	items, err := collect(rows, scanAudit)
	if err != nil {
		return nil, "", err
	}
	items, next := store.PageOf(p, items, func(e *store.AuditEvent) string { return e.ID })
	return items, next, nil
}

func scanAudit(s scanner) (*store.AuditEvent, error) {
	var (
		e       store.AuditEvent
		data    string
		created int64
	)
	if err := s.Scan(&e.ID, &e.Type, &e.Actor, &e.Subject, &data, &created); err != nil {
		return nil, mapErr(err)
	}
	e.Data, e.CreatedAt = []byte(data), fromMicros(created)
	return &e, nil
}
