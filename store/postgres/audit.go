package postgres

import (
	"context"
	"time"

	"github.com/keyward/keyward/store"
)

// AppendAudit implements store.AuditStore: the event and its webhook
// deliveries in one transaction (a savepoint inside the caller's).
func (d *DB) AppendAudit(ctx context.Context, e *store.AuditEvent) error {
	if e.CreatedAt.IsZero() {
		e.CreatedAt = d.now()
	}
	data := []byte(e.Data)
	if len(data) == 0 {
		data = []byte("{}")
	}
	tx, err := d.q(ctx).Begin(ctx)
	if err != nil {
		return mapErr(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `INSERT INTO audit_events (id, type, actor, subject, data, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, e.ID, e.Type, e.Actor, e.Subject, data, e.CreatedAt); err != nil {
		return mapErr(err)
	}
	hooks, err := selecting(ctx, tx, e)
	if err != nil {
		return err
	}
	if len(hooks) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO webhook_deliveries (webhook_id, event_id, next_attempt_at, created_at)
			SELECT h, $2, $3, $3 FROM unnest($1::text[]) AS h`, hooks, e.ID, e.CreatedAt); err != nil {
			return mapErr(err)
		}
	}
	return mapErr(tx.Commit(ctx))
}

// selecting returns the enabled webhooks that select e.
func selecting(ctx context.Context, q conn, e *store.AuditEvent) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT id, event_types FROM webhooks WHERE enabled ORDER BY id`)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var (
			w     store.Webhook
			types []byte
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
	rows, err := d.q(ctx).Query(ctx, `SELECT id, type, actor, subject, data, created_at
		FROM audit_events WHERE id > $1 ORDER BY id LIMIT $2`, p.Cursor, p.Limit)
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
		data    []byte
		created time.Time
	)
	if err := s.Scan(&e.ID, &e.Type, &e.Actor, &e.Subject, &data, &created); err != nil {
		return nil, mapErr(err)
	}
	e.Data, e.CreatedAt = data, created.UTC()
	return &e, nil
}
