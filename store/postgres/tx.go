package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/keyward/keyward/store"
)

var _ store.Transactor = (*DB)(nil)

// conn is what a statement runs on: the transaction of the context, or the
// pool. Begin on a transaction opens a savepoint.
type conn interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	Begin(ctx context.Context) (pgx.Tx, error)
}

type txKey struct{}

type txState struct {
	db    *DB
	tx    pgx.Tx
	after []func()
}

func (d *DB) txOf(ctx context.Context) *txState {
	if st, ok := ctx.Value(txKey{}).(*txState); ok && st.db == d {
		return st
	}
	return nil
}

// q returns where a statement of ctx runs.
func (d *DB) q(ctx context.Context) conn {
	if st := d.txOf(ctx); st != nil {
		return st.tx
	}
	return d.pool
}

// InTx implements store.Transactor. Notifications sent inside fn
// (pg_notify) are delivered by PostgreSQL when the transaction commits.
func (d *DB) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	tx, err := d.q(ctx).Begin(ctx)
	if err != nil {
		return mapErr(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	outer := d.txOf(ctx)
	st := &txState{db: d, tx: tx}
	if err := fn(context.WithValue(ctx, txKey{}, st)); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return mapErr(err)
	}
	if outer != nil { // a savepoint: the outer commit decides
		outer.after = append(outer.after, st.after...)
		return nil
	}
	for _, fn := range st.after {
		fn()
	}
	return nil
}

// AfterCommit implements store.Transactor.
func (d *DB) AfterCommit(ctx context.Context, fn func()) {
	if st := d.txOf(ctx); st != nil {
		st.after = append(st.after, fn)
		return
	}
	fn()
}

// InTransaction reports whether ctx carries a transaction of InTx.
func (d *DB) InTransaction(ctx context.Context) bool { return d.txOf(ctx) != nil }
