package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/keyward/keyward/store"
)

var _ store.Transactor = (*DB)(nil)

// conn is what a statement runs on: the transaction of the context, or the
// pool.
type conn interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type txKey struct{}

// txState is the transaction InTx opened: its statements run on tx, and
// after runs once it has committed.
type txState struct {
	db    *DB
	tx    *sql.Tx
	after []func()
	depth int // savepoints opened so far, for their names
}

// txOf returns the transaction of ctx opened on this DB, or nil.
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
	return d.db
}

// afterCommit runs fn once the transaction of ctx has committed (never if
// it rolls back), or at once outside a transaction.
func (d *DB) afterCommit(ctx context.Context, fn func()) {
	if st := d.txOf(ctx); st != nil {
		st.after = append(st.after, fn)
		return
	}
	fn()
}

// InTx implements store.Transactor. The transaction starts with BEGIN
// IMMEDIATE (the DSN's _txlock): it holds the database's write lock until
// it ends, so fn should be short.
func (d *DB) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	t, err := d.begin(ctx)
	if err != nil {
		return err
	}
	defer t.Rollback()
	if err := fn(t.ctx); err != nil {
		return err
	}
	return t.Commit()
}

// txn is one transaction or, inside another, one savepoint.
type txn struct {
	*sql.Tx
	ctx context.Context // carries the transaction to nested calls
	st  *txState
	sp  string // the savepoint's name; "" for the transaction itself
	// mark is how many after-commit functions the transaction had when
	// the savepoint began: a rolled-back savepoint drops the ones since.
	mark int
	done bool
}

// begin starts a transaction, or a savepoint when ctx already has one.
// Callers defer Rollback, which does nothing after Commit.
func (d *DB) begin(ctx context.Context) (*txn, error) {
	if st := d.txOf(ctx); st != nil {
		st.depth++
		sp := fmt.Sprintf("sp%d", st.depth)
		if _, err := st.tx.ExecContext(ctx, "SAVEPOINT "+sp); err != nil {
			return nil, mapErr(err)
		}
		return &txn{Tx: st.tx, ctx: ctx, st: st, sp: sp, mark: len(st.after)}, nil
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, mapErr(err)
	}
	st := &txState{db: d, tx: tx}
	return &txn{Tx: tx, ctx: context.WithValue(ctx, txKey{}, st), st: st}, nil
}

// Commit commits the transaction (then runs its after-commit functions),
// or releases the savepoint into the enclosing transaction.
func (t *txn) Commit() error {
	if t.done {
		return sql.ErrTxDone
	}
	t.done = true
	if t.sp != "" {
		_, err := t.Tx.ExecContext(t.ctx, "RELEASE "+t.sp)
		return mapErr(err)
	}
	if err := t.Tx.Commit(); err != nil {
		return mapErr(err)
	}
	for _, fn := range t.st.after {
		fn()
	}
	return nil
}

// Rollback undoes the transaction, or the savepoint's writes alone; after
// Commit it does nothing.
func (t *txn) Rollback() error {
	if t.done {
		return nil
	}
	t.done = true
	if t.sp != "" {
		// What the savepoint meant to announce (an audit event, a
		// notification) did not happen.
		t.st.after = t.st.after[:t.mark]
		_, err := t.Tx.ExecContext(context.WithoutCancel(t.ctx), "ROLLBACK TO "+t.sp+"; RELEASE "+t.sp)
		return err
	}
	return t.Tx.Rollback()
}

// AfterCommit implements store.Transactor.
func (d *DB) AfterCommit(ctx context.Context, fn func()) { d.afterCommit(ctx, fn) }

// InTransaction reports whether ctx carries a transaction of InTx.
func (d *DB) InTransaction(ctx context.Context) bool { return d.txOf(ctx) != nil }
