package sqlite

import (
	"context"

	"github.com/keyward/keyward/store"
)

// AppendAudit implements store.AuditStore.
func (d *DB) AppendAudit(ctx context.Context, e *store.AuditEvent) error {
	if e.CreatedAt.IsZero() {
		e.CreatedAt = d.now()
	}
	data := string(e.Data)
	if data == "" {
		data = "{}"
	}
	_, err := d.db.ExecContext(ctx, `INSERT INTO audit_events (id, type, actor, subject, data, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, e.ID, e.Type, e.Actor, e.Subject, data, micros(e.CreatedAt))
	return mapErr(err)
}

// ListAudit implements store.AuditStore.
func (d *DB) ListAudit(ctx context.Context, p store.Page) ([]*store.AuditEvent, string, error) {
	p = p.Normalize()
	rows, err := d.db.QueryContext(ctx, `SELECT id, type, actor, subject, data, created_at
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
