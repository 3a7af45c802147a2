package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/keyward/keyward/store"
)

// execer is what the pool and a transaction have in common for writes.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// ApplyTokenChanges implements store.TokenStore in one transaction on one
// connection, which waits for no other. The statements go to PostgreSQL
// together (a pgx batch: one round trip for all of them, not one each),
// and their results are read in order: the first change that fails ends
// the transaction with nothing applied. Creates alone, outside a store
// transaction (a group commit of token endpoints), need no BEGIN or
// COMMIT of their own: a batch runs in one implicit transaction that
// commits when every statement succeeded, so they cost one round trip.
func (d *DB) ApplyTokenChanges(ctx context.Context, changes []store.TokenChange) error {
	if len(changes) == 0 {
		return nil
	}
	q := d.q(ctx)
	if _, pooled := q.(*pgxpool.Pool); pooled && onlyCreates(changes) {
		return sendTokenChanges(ctx, q, changes)
	}
	tx, err := q.Begin(ctx)
	if err != nil {
		return mapErr(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := sendTokenChanges(ctx, tx, changes); err != nil {
		return err
	}
	return mapErr(tx.Commit(ctx))
}

func onlyCreates(changes []store.TokenChange) bool {
	for _, c := range changes {
		if c.Create == nil {
			return false
		}
	}
	return true
}

// batchSender is what the pool and a transaction have in common for
// batches.
type batchSender interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// sendTokenChanges sends changes as one batch on q and reads their
// results in order; the first failure comes back as a
// *store.TokenChangeError.
func sendTokenChanges(ctx context.Context, q batchSender, changes []store.TokenChange) error {
	b := &pgx.Batch{}
	for i, c := range changes {
		switch {
		case c.Create != nil:
			r := c.Create
			b.Queue(insertTokenSQL, string(r.Kind), r.Signature, r.RequestID, r.ClientID, r.Subject, r.Active,
				r.AccessSignature, r.Data, r.RequestedAt, r.ExpiresAt, nullTime(r.InactiveAt))
		case c.Deactivate:
			b.Queue(deactivateTokenSQL, c.At, string(c.Kind), c.Signature)
		case c.Delete:
			b.Queue(`DELETE FROM oauth_tokens WHERE kind = $1 AND signature = $2`, string(c.Kind), c.Signature)
		default:
			return &store.TokenChangeError{Index: i, Err: store.Invalid("a token change must create, deactivate or delete")}
		}
	}
	br := q.SendBatch(ctx, b)
	for i, c := range changes {
		var err error
		if c.Deactivate {
			var changed, exists bool
			err = br.QueryRow().Scan(&changed, &exists)
			switch {
			case err != nil:
			case !exists:
				err = store.ErrNotFound
			case !changed:
				// Used by another request first.
				err = fmt.Errorf("%w: the token is no longer active", store.ErrConflict)
			}
		} else {
			_, err = br.Exec()
		}
		if err != nil {
			br.Close()
			return &store.TokenChangeError{Index: i, Err: mapErr(err)}
		}
	}
	return mapErr(br.Close())
}

// deactivateTokenSQL deactivates an active record and answers whether it
// did and whether the record exists at all (the subquery sees the table
// as the statement began), so that a Deactivate needs no second query to
// tell a used token from a missing one.
const deactivateTokenSQL = `WITH changed AS (
	UPDATE oauth_tokens SET active = FALSE, inactive_at = $1 WHERE kind = $2 AND signature = $3 AND active
	RETURNING 1)
SELECT EXISTS (SELECT 1 FROM changed), EXISTS (SELECT 1 FROM oauth_tokens WHERE kind = $2 AND signature = $3)`
