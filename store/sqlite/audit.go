package sqlite

import (
	"context"
	"strings"

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

// ListAudit implements store.AuditStore. Each condition of f has an
// index (migration 00013): (type, id), (actor, id), (subject, id) and
// (created_at, id), beside the primary key that orders the pages.
func (d *DB) ListAudit(ctx context.Context, f store.AuditFilter, p store.Page) ([]*store.AuditEvent, string, error) {
	if err := f.Check(); err != nil {
		return nil, "", err
	}
	p = p.Normalize()
	var (
		where []string
		args  []any
	)
	cond := func(c string, a ...any) { where, args = append(where, c), append(args, a...) }
	if p.Cursor != "" {
		if f.Desc {
			cond("id < ?", p.Cursor)
		} else {
			cond("id > ?", p.Cursor)
		}
	}
	switch prefix, ok := f.TypePrefix(); {
	case f.AnyType():
	case ok:
		// The prefix ends in "."; "/" is the byte after ".", so the range
		// holds exactly the types that start with it, and uses the index.
		cond("type >= ? AND type < ?", prefix, strings.TrimSuffix(prefix, ".")+"/")
	default:
		cond("type = ?", f.Type)
	}
	if f.Actor != "" {
		cond("actor = ?", f.Actor)
	}
	if f.Subject != "" {
		cond("subject = ?", f.Subject)
	}
	since, until := f.Range()
	if !since.IsZero() {
		cond("created_at >= ?", micros(since))
	}
	if !until.IsZero() {
		cond("created_at < ?", micros(until))
	}
	q := "SELECT id, type, actor, subject, data, created_at FROM audit_events"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if f.Desc {
		q += " ORDER BY id DESC LIMIT ?"
	} else {
		q += " ORDER BY id LIMIT ?"
	}
	rows, err := d.db.QueryContext(ctx, q, append(args, p.Limit)...)
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
