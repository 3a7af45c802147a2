package postgres

import (
	"context"
	"strconv"
	"strings"
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

// ListAudit implements store.AuditStore. Each condition of f has an
// index (migration 00013): (type COLLATE "C", id), (actor, id),
// (subject, id) and (created_at, id), beside the primary key that orders
// the pages.
func (d *DB) ListAudit(ctx context.Context, f store.AuditFilter, p store.Page) ([]*store.AuditEvent, string, error) {
	if err := f.Check(); err != nil {
		return nil, "", err
	}
	p = p.Normalize()
	var (
		where []string
		args  []any
	)
	cond := func(c string, a any) {
		args = append(args, a)
		where = append(where, strings.ReplaceAll(c, "?", "$"+strconv.Itoa(len(args))))
	}
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
		// Byte order (COLLATE "C"): the prefix ends in "." and "/" is
		// the byte after it, so the range holds exactly the types that
		// start with the prefix, and uses the index.
		cond(`type COLLATE "C" >= ?`, prefix)
		cond(`type COLLATE "C" < ?`, strings.TrimSuffix(prefix, ".")+"/")
	default:
		// Equality is byte equality in any deterministic collation;
		// COLLATE "C" lets it use the same index.
		cond(`type COLLATE "C" = ?`, f.Type)
	}
	if f.Actor != "" {
		cond("actor = ?", f.Actor)
	}
	if f.Subject != "" {
		cond("subject = ?", f.Subject)
	}
	since, until := f.Range()
	if !since.IsZero() {
		cond("created_at >= ?", since)
	}
	if !until.IsZero() {
		cond("created_at < ?", until)
	}
	q := "SELECT id, type, actor, subject, data, created_at FROM audit_events"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, p.Limit)
	if f.Desc {
		q += " ORDER BY id DESC LIMIT $" + strconv.Itoa(len(args))
	} else {
		q += " ORDER BY id LIMIT $" + strconv.Itoa(len(args))
	}
	rows, err := d.pool.Query(ctx, q, args...)
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
