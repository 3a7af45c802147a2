package sqlite

import (
	"context"
	"strings"

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
	rows, err := d.q(ctx).QueryContext(ctx, q, append(args, p.Limit)...)
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
