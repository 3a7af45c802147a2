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

// ListAudit implements store.AuditStore. Pages are read in
// (created_at, id) order through the indexes of migration 00013:
// (created_at, id), and (type|actor|subject, created_at, id) for an
// exact match, so a filtered page reads about as many index entries as
// it returns.
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
		at, id, err := store.ParseAuditCursor(p.Cursor)
		if err != nil {
			return nil, "", err
		}
		if f.Desc {
			cond("(created_at, id) < (?, ?)", micros(at), id)
		} else {
			cond("(created_at, id) > (?, ?)", micros(at), id)
		}
	}
	switch prefix, ok := f.TypePrefix(); {
	case f.AnyType():
	case ok:
		// The prefix ends in "."; "/" is the byte after ".", so the range
		// holds exactly the types that start with it. A prefix usually
		// names a large family: reading (created_at, id) in order and
		// skipping other types beats sorting the family, so the unary +
		// keeps SQLite off the type index here.
		cond("+type >= ? AND +type < ?", prefix, strings.TrimSuffix(prefix, ".")+"/")
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
		q += " ORDER BY created_at DESC, id DESC LIMIT ?"
	} else {
		q += " ORDER BY created_at, id LIMIT ?"
	}
	rows, err := d.db.QueryContext(ctx, q, append(args, p.Limit)...)
	if err != nil {
		return nil, "", mapErr(err)
	}
	items, err := collect(rows, scanAudit)
	if err != nil {
		return nil, "", err
	}
	items, next := store.PageOf(p, items, store.AuditCursor)
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
