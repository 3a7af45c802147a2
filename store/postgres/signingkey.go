package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyward/keyward/keys/signing"
)

var _ signing.Store = (*DB)(nil)

const signingKeyColumns = `kid, alg, state, origin, private_key, created_at, activated_at,
	retiring_at, retire_after, retired_at, revoked_at`

// signingLockClass is the first key of the transaction-level advisory lock
// taken per algorithm: "kwsk". The second is a hash of the schema and the
// algorithm, since advisory locks are database-wide and deployments in
// other schemas need not wait for each other.
const signingLockClass = 0x6b77736b

// SigningKeys implements signing.Store.
func (d *DB) SigningKeys(ctx context.Context) ([]*signing.Record, error) {
	rows, err := d.q(ctx).Query(ctx, `SELECT `+signingKeyColumns+` FROM signing_keys ORDER BY created_at, kid`)
	if err != nil {
		return nil, mapErr(err)
	}
	return collectSigningKeys(rows)
}

// SigningKey implements signing.Store; it returns store.ErrNotFound.
func (d *DB) SigningKey(ctx context.Context, kid string) (*signing.Record, error) {
	row := d.q(ctx).QueryRow(ctx, `SELECT `+signingKeyColumns+` FROM signing_keys WHERE kid = $1`, kid)
	r, err := scanSigningKey(row)
	return r, mapErr(err)
}

// UpdateSigningKeys implements signing.Store. The transaction takes a
// transaction-level advisory lock on the algorithm first, which also
// serializes the first transition of an algorithm that has no rows to lock
// yet, then locks the algorithm's rows (FOR UPDATE). The lock ends with
// the transaction, also when the connection dies mid-way.
func (d *DB) UpdateSigningKeys(ctx context.Context, alg string, fn func([]*signing.Record) ([]*signing.Record, error)) error {
	tx, err := d.q(ctx).Begin(ctx)
	if err != nil {
		return mapErr(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(coalesce(current_schema(), '') || '/' || $2))`, signingLockClass, alg); err != nil {
		return mapErr(err)
	}
	rows, err := tx.Query(ctx, `SELECT `+signingKeyColumns+` FROM signing_keys
		WHERE alg = $1 ORDER BY created_at, kid FOR UPDATE`, alg)
	if err != nil {
		return mapErr(err)
	}
	current, err := collectSigningKeys(rows)
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
			return fmt.Errorf("postgres: signing key %s is %s, not %s", w.KID, w.Alg, alg)
		}
		if exists[w.KID] {
			_, err = tx.Exec(ctx, `UPDATE signing_keys SET state = $1, activated_at = $2,
				retiring_at = $3, retire_after = $4, retired_at = $5, revoked_at = $6 WHERE kid = $7`,
				string(w.State), nullTime(w.ActivatedAt), nullTime(w.RetiringAt),
				nullTime(w.RetireAfter), nullTime(w.RetiredAt), nullTime(w.RevokedAt), w.KID)
		} else {
			_, err = tx.Exec(ctx, `INSERT INTO signing_keys (`+signingKeyColumns+`)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
				w.KID, w.Alg, string(w.State), w.Origin, w.Sealed, w.CreatedAt,
				nullTime(w.ActivatedAt), nullTime(w.RetiringAt), nullTime(w.RetireAfter),
				nullTime(w.RetiredAt), nullTime(w.RevokedAt))
			exists[w.KID] = true
		}
		if err != nil {
			return mapErr(err)
		}
	}
	return mapErr(tx.Commit(ctx))
}

func collectSigningKeys(rows pgx.Rows) ([]*signing.Record, error) {
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
		activated, retiring, after, retired *time.Time
		revoked                             *time.Time
	)
	if err := s.Scan(&r.KID, &r.Alg, &state, &r.Origin, &r.Sealed, &r.CreatedAt, &activated,
		&retiring, &after, &retired, &revoked); err != nil {
		return nil, err
	}
	r.State = signing.State(state)
	r.CreatedAt = r.CreatedAt.UTC()
	r.ActivatedAt, r.RetiringAt = fromNullTime(activated), fromNullTime(retiring)
	r.RetireAfter, r.RetiredAt = fromNullTime(after), fromNullTime(retired)
	r.RevokedAt = fromNullTime(revoked)
	return &r, nil
}
