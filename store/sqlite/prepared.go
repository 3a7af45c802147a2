package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// preparedStmts keeps the statements of the batched reads (ReadTokens,
// GetAPIKeys) and of the token insert prepared. The driver prepares every
// query it is handed, and SQLite's parser and planner were about a tenth
// of the server's CPU under a cold tour of 200,000 opaque tokens: each
// batch a statement of its own length, parsed once and thrown away (and
// 7% of it when issuing opaque tokens, each insert parsed again). The
// texts are bounded: store.BatchArgs pads an IN list to a power of two,
// so a read of at most 128 keys has eight shapes.
type preparedStmts struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
	done  bool
}

// query runs the read query with args through its prepared statement
// (database/sql prepares it again on each connection it runs on), or as
// a plain query inside the transaction of ctx. Only a bounded set of
// texts may be passed: each is kept until Close.
func (d *DB) queryPrepared(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := d.txOf(ctx); st != nil {
		return st.tx.QueryContext(ctx, query, args...)
	}
	stmt, err := d.prepare(ctx, query)
	if err != nil {
		return nil, err
	}
	if stmt == nil { // closed: the query fails as the closed database fails it
		return d.db.QueryContext(ctx, query, args...)
	}
	return stmt.QueryContext(ctx, args...)
}

// queryRowPrepared is queryPrepared for a query of one row (a plain
// query in a transaction, or when the statement cannot be prepared: the
// query then fails as the statement would have).
func (d *DB) queryRowPrepared(ctx context.Context, query string, args ...any) *sql.Row {
	if st := d.txOf(ctx); st != nil {
		return st.tx.QueryRowContext(ctx, query, args...)
	}
	if stmt, err := d.prepare(ctx, query); err == nil && stmt != nil {
		return stmt.QueryRowContext(ctx, args...)
	}
	return d.db.QueryRowContext(ctx, query, args...)
}

// prepare returns query's prepared statement, preparing it the first
// time; nil once the store is closed.
func (d *DB) prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	p := &d.prepared
	p.mu.Lock()
	defer p.mu.Unlock()
	stmt := p.stmts[query]
	if stmt == nil && !p.done {
		var err error
		if stmt, err = d.db.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		if p.stmts == nil {
			p.stmts = map[string]*sql.Stmt{}
		}
		p.stmts[query] = stmt
	}
	return stmt, nil
}

// execPrepared runs the write query with args through its prepared
// statement, in the transaction of ctx when it has one (execPreparedIn).
func (d *DB) execPrepared(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := d.txOf(ctx); st != nil {
		return d.execPreparedIn(ctx, st.tx, query, args...)
	}
	stmt, err := d.prepare(ctx, query)
	if err != nil {
		return nil, err
	}
	if stmt == nil { // closed: the write fails as the closed database fails it
		return d.db.ExecContext(ctx, query, args...)
	}
	return stmt.ExecContext(ctx, args...)
}

// execPreparedIn runs the write query with args in tx through its
// prepared statement (prepared again on the transaction's connection the
// first time it runs there), or as a plain statement once the store is
// closed.
func (d *DB) execPreparedIn(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	stmt, err := d.prepare(ctx, query)
	if err != nil {
		return nil, err
	}
	if stmt == nil {
		return tx.ExecContext(ctx, query, args...)
	}
	ts := tx.StmtContext(ctx, stmt)
	defer ts.Close()
	return ts.ExecContext(ctx, args...)
}

// close closes the prepared statements; queryPrepared prepares no more.
func (p *preparedStmts) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = true
	for _, s := range p.stmts {
		s.Close()
	}
	p.stmts = nil
}
