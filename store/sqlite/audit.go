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
	defer rows.Close()
	var out []*store.AuditEvent
	for rows.Next() {
		var (
			e       store.AuditEvent
			data    string
			created int64
		)
		if err := rows.Scan(&e.ID, &e.Type, &e.Actor, &e.Subject, &data, &created); err != nil {
			return nil, "", mapErr(err)
		}
		e.Data, e.CreatedAt = []byte(data), fromMicros(created)
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
