package store

import "context"

// Transactor runs a function in one database transaction. Every store call
// made with the context fn receives (on the same engine) joins that
// transaction, so a change and the audit event that records it (and the
// webhook deliveries the event causes) are committed together or not at
// all. A nested InTx is a savepoint: its failure undoes only its own
// writes, and the caller decides whether the outer transaction goes on.
//
// fn must make every store call with the context it receives (never a
// fresh one): a write through another connection would wait for the lock
// this transaction holds. A store call that fails inside fn ends the
// transaction on PostgreSQL, so fn returns its error; a failure fn means
// to handle and go on from belongs in a nested InTx. Notifications sent inside fn (Events.Notify) reach
// subscribers only once the outermost transaction commits.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	// AfterCommit runs fn once the transaction of ctx has committed (never
	// if it rolls back), or at once when ctx has none.
	AfterCommit(ctx context.Context, fn func())
}

// Atomic runs fn in a transaction of s when s is a Transactor, and plainly
// otherwise (an in-memory fake).
func Atomic(ctx context.Context, s any, fn func(ctx context.Context) error) error {
	if t, ok := s.(Transactor); ok {
		return t.InTx(ctx, fn)
	}
	return fn(ctx)
}

// AfterCommit runs fn once the transaction of ctx on s has committed, or
// at once when s is no Transactor or ctx has no transaction.
func AfterCommit(ctx context.Context, s any, fn func()) {
	if t, ok := s.(Transactor); ok {
		t.AfterCommit(ctx, fn)
		return
	}
	fn()
}

// InTransaction reports whether ctx carries a transaction of s (an InTx
// of an engine that says so).
func InTransaction(ctx context.Context, s any) bool {
	t, ok := s.(interface {
		InTransaction(ctx context.Context) bool
	})
	return ok && t.InTransaction(ctx)
}
