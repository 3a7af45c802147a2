package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/keyward/keyward/keys/signing"
)

var _ signing.Store = (*DB)(nil)

const signingKeyColumns = `kid, alg, state, origin, private_key, created_at, activated_at,
	retiring_at, retire_after, retired_at, revoked_at`

// SigningKeys implements signing.Store.
func (d *DB) SigningKeys(ctx context.Context) ([]*signing.Record, error) {
	return querySigningKeys(ctx, d.db, `SELECT `+signingKeyColumns+` FROM signing_keys
		ORDER BY created_at, kid`)
}

// SigningKey implements signing.Store; it returns store.ErrNotFound.
func (d *DB) SigningKey(ctx context.Context, kid string) (*signing.Record, error) {
	row := d.q(ctx).QueryRowContext(ctx, `SELECT `+signingKeyColumns+` FROM signing_keys WHERE kid = ?`, kid)
	r, err := scanSigningKey(row)
	return r, mapErr(err)
}

// UpdateSigningKeys implements signing.Store. The transaction starts with
// BEGIN IMMEDIATE (the DSN's _txlock), which takes the database's write
// lock at once: transitions of every algorithm are serialized, and a
// reader never sees half of one.
func (d *DB) UpdateSigningKeys(ctx context.Context, alg string, fn func([]*signing.Record) ([]*signing.Record, error)) error {
	tx, err := d.begin(ctx)
	if err != nil {
		return mapErr(err)
	}
	defer tx.Rollback()
	current, err := querySigningKeys(ctx, tx, `SELECT `+signingKeyColumns+` FROM signing_keys
		WHERE alg = ? ORDER BY created_at, kid`, alg)
	if err != nil {
		return err
	}
	writes, err := fn(current)
	if err != nil {
		return err
	}
	exists := make(map[string]bool, len(current))
	for _, k := range current {
		exists[k.KID] = true
	}
	for _, w := range writes {
		if w.Alg != alg {
			return fmt.Errorf("sqlite: signing key %s is %s, not %s", w.KID, w.Alg, alg)
		}
		if exists[w.KID] {
			_, err = tx.ExecContext(ctx, `UPDATE signing_keys SET state = ?, activated_at = ?,
				retiring_at = ?, retire_after = ?, retired_at = ?, revoked_at = ? WHERE kid = ?`,
				string(w.State), nullMicros(w.ActivatedAt), nullMicros(w.RetiringAt),
				nullMicros(w.RetireAfter), nullMicros(w.RetiredAt), nullMicros(w.RevokedAt), w.KID)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO signing_keys (`+signingKeyColumns+`)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				w.KID, w.Alg, string(w.State), w.Origin, w.Sealed, micros(w.CreatedAt),
				nullMicros(w.ActivatedAt), nullMicros(w.RetiringAt), nullMicros(w.RetireAfter),
				nullMicros(w.RetiredAt), nullMicros(w.RevokedAt))
			exists[w.KID] = true
		}
		if err != nil {
			return mapErr(err)
		}
	}
	return mapErr(tx.Commit())
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func querySigningKeys(ctx context.Context, q querier, query string, args ...any) ([]*signing.Record, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []*signing.Record
	for rows.Next() {
		r, err := scanSigningKey(rows)
		if err != nil {
			return nil, mapErr(err)
		}
		out = append(out, r)
	}
	return out, mapErr(rows.Err())
}

func scanSigningKey(s scanner) (*signing.Record, error) {
	var (
		r                                   signing.Record
		state                               string
		created                             int64
		activated, retiring, after, retired sql.NullInt64
		revoked                             sql.NullInt64
	)
	if err := s.Scan(&r.KID, &r.Alg, &state, &r.Origin, &r.Sealed, &created, &activated,
		&retiring, &after, &retired, &revoked); err != nil {
		return nil, err
	}
	r.State = signing.State(state)
	r.CreatedAt = fromMicros(created)
	r.ActivatedAt, r.RetiringAt = fromNullMicros(activated), fromNullMicros(retiring)
	r.RetireAfter, r.RetiredAt = fromNullMicros(after), fromNullMicros(retired)
	r.RevokedAt = fromNullMicros(revoked)
	return &r, nil
}
