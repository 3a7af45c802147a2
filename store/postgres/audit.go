package postgres

import (
	"context"
	"strconv"
	"strings"
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
	// cond adds a condition whose ? placeholders take a, in order.
	cond := func(c string, a ...any) {
		for _, v := range a {
			args = append(args, v)
			c = strings.Replace(c, "?", "$"+strconv.Itoa(len(args)), 1)
		}
		where = append(where, c)
	}
	if p.Cursor != "" {
		at, id, err := store.ParseAuditCursor(p.Cursor)
		if err != nil {
			return nil, "", err
		}
		if f.Desc {
			cond("(created_at, id) < (?, ?)", at, id)
		} else {
			cond("(created_at, id) > (?, ?)", at, id)
		}
	}
	switch prefix, ok := f.TypePrefix(); {
	case f.AnyType():
	case ok:
		// Byte order (COLLATE "C"): the prefix ends in "." and "/" is
		// the byte after it, so the range holds exactly the types that
		// start with the prefix.
		cond(`type COLLATE "C" >= ? AND type COLLATE "C" < ?`, prefix, strings.TrimSuffix(prefix, ".")+"/")
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
		q += " ORDER BY created_at DESC, id DESC LIMIT $" + strconv.Itoa(len(args))
	} else {
		q += " ORDER BY created_at, id LIMIT $" + strconv.Itoa(len(args))
	}
	rows, err := d.q(ctx).Query(ctx, q, args...)
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
		data    []byte
		created time.Time
	)
	if err := s.Scan(&e.ID, &e.Type, &e.Actor, &e.Subject, &data, &created); err != nil {
		return nil, mapErr(err)
	}
	e.Data, e.CreatedAt = data, created.UTC()
	return &e, nil
}
