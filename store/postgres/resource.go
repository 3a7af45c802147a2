package postgres

import (
	"context"
	"time"

	"github.com/keyward/keyward/store"
)

const resourceColumns = `id, uri, name, scopes, created_at, updated_at`

// CreateResource implements store.ResourceStore.
func (d *DB) CreateResource(ctx context.Context, r *store.Resource) error {
	now := d.now()
	r.CreatedAt, r.UpdatedAt = now, now
	_, err := d.q(ctx).Exec(ctx, `INSERT INTO resources (`+resourceColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		r.ID, r.URI, r.Name, list(r.Scopes), now, now)
	return mapErr(err)
}

// GetResource implements store.ResourceStore.
func (d *DB) GetResource(ctx context.Context, id string) (*store.Resource, error) {
	return scanResource(d.q(ctx).QueryRow(ctx, `SELECT `+resourceColumns+` FROM resources WHERE id = $1`, id))
}

// GetResourceByURI implements store.ResourceStore.
func (d *DB) GetResourceByURI(ctx context.Context, uri string) (*store.Resource, error) {
	return scanResource(d.q(ctx).QueryRow(ctx, `SELECT `+resourceColumns+` FROM resources WHERE uri = $1`, uri))
}

// ListResources implements store.ResourceStore.
func (d *DB) ListResources(ctx context.Context, p store.Page) ([]*store.Resource, string, error) {
	p = p.Normalize()
	cond, sargs := searchClause(p.Search, "id", "uri", "name")
	rows, err := d.q(ctx).Query(ctx, `SELECT `+resourceColumns+` FROM resources
		WHERE id > $1`+cond+` ORDER BY id LIMIT $2`, append([]any{p.Cursor, p.Limit}, sargs...)...)
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
	return affected(d.q(ctx).Exec(ctx, `UPDATE resources SET uri = $1, name = $2, scopes = $3, updated_at = $4
		WHERE id = $5`, r.URI, r.Name, list(r.Scopes), r.UpdatedAt, r.ID))
}

// DeleteResource implements store.ResourceStore.
func (d *DB) DeleteResource(ctx context.Context, id string) error {
	return affected(d.q(ctx).Exec(ctx, `DELETE FROM resources WHERE id = $1`, id))
}

func scanResource(s scanner) (*store.Resource, error) {
	var (
		r                store.Resource
		scopes           []byte
		created, updated time.Time
	)
	if err := s.Scan(&r.ID, &r.URI, &r.Name, &scopes, &created, &updated); err != nil {
		return nil, mapErr(err)
	}
	if err := parseList(scopes, &r.Scopes); err != nil {
		return nil, err
	}
	r.CreatedAt, r.UpdatedAt = created.UTC(), updated.UTC()
	return &r, nil
}
