package postgres

import (
	"context"
	"time"

	"github.com/keyward/keyward/store"
)

// AppendAudit implements store.AuditStore.
func (d *DB) AppendAudit(ctx context.Context, e *store.AuditEvent) error {
	if e.CreatedAt.IsZero() {
		e.CreatedAt = d.now()
	}
	data := []byte(e.Data)
	if len(data) == 0 {
		data = []byte("{}")
	}
	_, err := d.pool.Exec(ctx, `INSERT INTO audit_events (id, type, actor, subject, data, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, e.ID, e.Type, e.Actor, e.Subject, data, e.CreatedAt)
	return mapErr(err)
}

// ListAudit implements store.AuditStore.
func (d *DB) ListAudit(ctx context.Context, p store.Page) ([]*store.AuditEvent, string, error) {
	p = p.Normalize()
	rows, err := d.pool.Query(ctx, `SELECT id, type, actor, subject, data, created_at
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
