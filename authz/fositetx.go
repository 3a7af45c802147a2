package authz

import (
	"context"
	"errors"

	"github.com/ory/fosite/storage"

	"github.com/keyward/keyward/store"
)

// fosite wraps the token writes of a refresh-token rotation, an
// authorization-code redemption and the revocation of a reused refresh
// token's grant in BeginTX and Commit. fositeStore keeps those writes in
// the context and applies them at Commit in one short transaction
// (store.TokenStore.ApplyTokenChanges): a database that goes away in the
// middle leaves the grant as it was, so the client's retry with the same
// refresh token still works instead of looking like reuse and costing the
// client its grant. Reads are never deferred, and no connection is held
// between the calls.
var _ storage.Transactional = (*fositeStore)(nil)

type txKey struct{}

// tokenTx is the writes of one flow, waiting for Commit.
type tokenTx struct {
	changes []store.TokenChange
	// inactive is, by change index, the error a Deactivate reports when
	// its record was no longer active (used by a concurrent request).
	inactive map[int]error
}

func txFrom(ctx context.Context) *tokenTx {
	tx, _ := ctx.Value(txKey{}).(*tokenTx)
	return tx
}

// BeginTX implements storage.Transactional: writes through the returned
// context wait for Commit.
func (s *fositeStore) BeginTX(ctx context.Context) (context.Context, error) {
	return context.WithValue(ctx, txKey{}, &tokenTx{inactive: map[int]error{}}), nil
}

// Commit implements storage.Transactional: every waiting write, or none.
// A record deactivated meanwhile by another request answers the error its
// Deactivate asked for (fosite.ErrInactiveToken for a refresh token).
func (s *fositeStore) Commit(ctx context.Context) error {
	tx := txFrom(ctx)
	if tx == nil {
		return nil
	}
	changes := tx.changes
	tx.changes = nil
	err := s.applyChanges(ctx, changes)
	var ce *store.TokenChangeError
	if errors.As(err, &ce) && errors.Is(ce.Err, store.ErrConflict) && tx.inactive[ce.Index] != nil {
		return tx.inactive[ce.Index]
	}
	return fositeErr(err)
}

// Rollback implements storage.Transactional: the waiting writes are
// dropped (none of them was made).
func (s *fositeStore) Rollback(ctx context.Context) error {
	if tx := txFrom(ctx); tx != nil {
		tx.changes = nil
	}
	return nil
}

// deferred adds c to the context's transaction and reports whether there
// is one; without one the caller writes at once.
func deferred(ctx context.Context, c store.TokenChange, inactiveErr error) bool {
	tx := txFrom(ctx)
	if tx == nil {
		return false
	}
	if c.Deactivate {
		tx.inactive[len(tx.changes)] = inactiveErr
	}
	tx.changes = append(tx.changes, c)
	return true
}
