package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/keyward/keyward/store"
)

// execer is what the pool and a transaction have in common for writes.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// ApplyTokenChanges implements store.TokenStore in one transaction on one
// connection, which waits for no other.
func (d *DB) ApplyTokenChanges(ctx context.Context, changes []store.TokenChange) error {
	if len(changes) == 0 {
		return nil
	}
	tx, err := d.q(ctx).Begin(ctx)
	if err != nil {
		return mapErr(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	for i, c := range changes {
		if err := applyTokenChange(ctx, tx, c); err != nil {
			return &store.TokenChangeError{Index: i, Err: err}
		}
	}
	return mapErr(tx.Commit(ctx))
}

func applyTokenChange(ctx context.Context, tx pgx.Tx, c store.TokenChange) error {
	switch {
	case c.Create != nil:
		return insertToken(ctx, tx, c.Create)
	case c.Deactivate:
		tag, err := tx.Exec(ctx, `UPDATE oauth_tokens SET active = FALSE, inactive_at = $1
			WHERE kind = $2 AND signature = $3 AND active`, c.At, string(c.Kind), c.Signature)
		if err != nil || tag.RowsAffected() == 1 {
			return mapErr(err)
		}
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM oauth_tokens WHERE kind = $1 AND signature = $2`,
			string(c.Kind), c.Signature).Scan(&one); err != nil {
			return mapErr(err)
		}
		return fmt.Errorf("%w: the token is no longer active", store.ErrConflict)
	case c.Delete:
		_, err := tx.Exec(ctx, `DELETE FROM oauth_tokens WHERE kind = $1 AND signature = $2`, string(c.Kind), c.Signature)
		return mapErr(err)
	}
	return store.Invalid("a token change must create, deactivate or delete")
}
