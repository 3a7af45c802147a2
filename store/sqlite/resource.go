package sqlite

import (
	"context"

	"github.com/keyward/keyward/store"
)

const resourceColumns = `id, uri, name, scopes, created_at, updated_at`

// CreateResource implements store.ResourceStore.
func (d *DB) CreateResource(ctx context.Context, r *store.Resource) error {
	now := d.now()
	r.CreatedAt, r.UpdatedAt = now, now
	_, err := d.q(ctx).ExecContext(ctx, `INSERT INTO resources (`+resourceColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		r.ID, r.URI, r.Name, list(r.Scopes), micros(now), micros(now))
	return mapErr(err)
}

// GetResource implements store.ResourceStore.
func (d *DB) GetResource(ctx context.Context, id string) (*store.Resource, error) {
	return scanResource(d.q(ctx).QueryRowContext(ctx, `SELECT `+resourceColumns+` FROM resources WHERE id = ?`, id))
}

// GetResourceByURI implements store.ResourceStore.
func (d *DB) GetResourceByURI(ctx context.Context, uri string) (*store.Resource, error) {
	return scanResource(d.q(ctx).QueryRowContext(ctx, `SELECT `+resourceColumns+` FROM resources WHERE uri = ?`, uri))
}

// ListResources implements store.ResourceStore.
func (d *DB) ListResources(ctx context.Context, p store.Page) ([]*store.Resource, string, error) {
	p = p.Normalize()
	cond, sargs := searchClause(p.Search, "id", "uri", "name")
	rows, err := d.q(ctx).QueryContext(ctx, `SELECT `+resourceColumns+` FROM resources
		WHERE id > ?`+cond+` ORDER BY id LIMIT ?`, pageArgs(p.Cursor, sargs, p.Limit)...)
	if err != nil {
		return nil, "", mapErr(err)
	}
	items, err := collect(rows, scanResource)
	if err != nil {
		return nil, "", err
	}
	items, next := store.PageOf(p, items, func(v *store.Resource) string { return v.ID })
	return items, next, nil
}

// UpdateResource implements store.ResourceStore.
func (d *DB) UpdateResource(ctx context.Context, r *store.Resource) error {
	r.UpdatedAt = d.now()
	return affected(d.q(ctx).ExecContext(ctx, `UPDATE resources SET uri = ?, name = ?, scopes = ?, updated_at = ?
		WHERE id = ?`, r.URI, r.Name, list(r.Scopes), micros(r.UpdatedAt), r.ID))
}

// DeleteResource implements store.ResourceStore.
func (d *DB) DeleteResource(ctx context.Context, id string) error {
	return affected(d.q(ctx).ExecContext(ctx, `DELETE FROM resources WHERE id = ?`, id))
}

func scanResource(s scanner) (*store.Resource, error) {
	var (
		r                store.Resource
		scopes           string
		created, updated int64
	)
	if err := s.Scan(&r.ID, &r.URI, &r.Name, &scopes, &created, &updated); err != nil {
		return nil, mapErr(err)
	}
	if err := parseList(scopes, &r.Scopes); err != nil {
		return nil, err
	}
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &r, nil
}
