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
	defer rows.Close()
	var out []*store.AuditEvent
	for rows.Next() {
		var (
			e       store.AuditEvent
			data    []byte
			created time.Time
		)
		if err := rows.Scan(&e.ID, &e.Type, &e.Actor, &e.Subject, &data, &created); err != nil {
			return nil, "", mapErr(err)
		}
		e.Data, e.CreatedAt = data, created.UTC()
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", mapErr(err)
	}
	last := ""
	if len(out) > 0 {
		last = out[len(out)-1].ID
	}
	return out, store.NextCursor(p, len(out), last), nil
}
