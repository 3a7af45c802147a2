package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// preparedReads keeps the statements of the batched reads (ReadTokens,
// GetAPIKeys) prepared. The driver prepares every query it is handed,
// and SQLite's parser and planner were about a tenth of the server's CPU
// under a cold tour of 200,000 opaque tokens: each batch a statement of
// its own length, parsed once and thrown away. The texts are bounded:
// store.BatchArgs pads an IN list to a power of two, so a read of at most
// 128 keys has eight shapes.
type preparedReads struct {
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
	p := &d.prepared
	p.mu.Lock()
	stmt := p.stmts[query]
	if stmt == nil && !p.done {
		var err error
		if stmt, err = d.db.PrepareContext(ctx, query); err != nil {
			p.mu.Unlock()
			return nil, err
		}
		if p.stmts == nil {
			p.stmts = map[string]*sql.Stmt{}
		}
		p.stmts[query] = stmt
	}
	p.mu.Unlock()
	if stmt == nil { // closed: the query fails as the closed database fails it
		return d.db.QueryContext(ctx, query, args...)
	}
	return stmt.QueryContext(ctx, args...)
}

// close closes the prepared statements; queryPrepared prepares no more.
func (p *preparedReads) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = true
	for _, s := range p.stmts {
		s.Close()
	}
	p.stmts = nil
}
