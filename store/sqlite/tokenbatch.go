package sqlite

import (
	"context"
	"fmt"

	"github.com/keyward/keyward/store"
)

// ApplyTokenChanges implements store.TokenStore in one transaction (BEGIN
// IMMEDIATE: it holds the write lock from the start, so nothing else can
// change a record between its check and its write).
func (d *DB) ApplyTokenChanges(ctx context.Context, changes []store.TokenChange) error {
	if len(changes) == 0 {
		return nil
	}
	tx, err := d.begin(ctx)
	if err != nil {
		return mapErr(err)
	}
	defer tx.Rollback()
	for i, c := range changes {
		if err := d.applyTokenChange(ctx, tx, c); err != nil {
			return &store.TokenChangeError{Index: i, Err: err}
		}
	}
	return mapErr(tx.Commit())
}

// The statements of a batch's deactivations and deletions (a refresh's
// rotation deactivates the refresh token it used).
const (
	deactivateTokenSQL = `UPDATE oauth_tokens SET active = 0, inactive_at = ? WHERE kind = ? AND signature = ? AND active`
	deleteTokenSQL     = `DELETE FROM oauth_tokens WHERE kind = ? AND signature = ?`
)

// applyTokenChange applies c in tx, each kind of change through its
// prepared statement, parsed once per connection instead of once per
// record (a group commit applies many).
func (d *DB) applyTokenChange(ctx context.Context, tx *txn, c store.TokenChange) error {
	switch {
	case c.Create != nil:
		_, err := d.execPreparedIn(ctx, tx.Tx, insertTokenSQL, insertTokenArgs(c.Create)...)
		return mapErr(err)
	case c.Deactivate:
		res, err := d.execPreparedIn(ctx, tx.Tx, deactivateTokenSQL, micros(c.At), string(c.Kind), c.Signature)
		if err != nil {
			return mapErr(err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM oauth_tokens WHERE kind = ? AND signature = ?`,
			string(c.Kind), c.Signature).Scan(&one); err != nil {
			return mapErr(err)
		}
		return fmt.Errorf("%w: the token is no longer active", store.ErrConflict)
	case c.Delete:
		_, err := d.execPreparedIn(ctx, tx.Tx, deleteTokenSQL, string(c.Kind), c.Signature)
		return mapErr(err)
	}
	return store.Invalid("a token change must create, deactivate or delete")
}
