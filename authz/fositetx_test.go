package authz

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/sqlite"
	"github.com/keyward/keyward/store/sqlite/sqlitetest"
)

// outageAtCommit is the real SQLite store whose transactions fail, while
// down is set, as an unreachable database's would.
type outageAtCommit struct {
	*sqlite.DB
	down atomic.Bool
}

func (o *outageAtCommit) ApplyTokenChanges(ctx context.Context, changes []store.TokenChange) error {
	if o.down.Load() {
		return fmt.Errorf("%w: the database went away", store.ErrUnavailable)
	}
	return o.DB.ApplyTokenChanges(ctx, changes)
}

// TestRotationAllOrNothing: fosite's refresh-token rotation (deactivate the
// used token, store the new access and refresh tokens) is written at
// Commit, all or nothing. A database lost at that moment is a store
// failure that leaves the used token active, so the client's retry works;
// once the rotation is written, the used token is reuse.
func TestRotationAllOrNothing(t *testing.T) {
	ctx := context.Background()
	db := sqlitetest.Open(t)
	if err := db.CreateClient(ctx, &store.Client{ID: "app", Name: "App", GrantTypes: []string{"refresh_token"}}); err != nil {
		t.Fatal(err)
	}
	tokens := &outageAtCommit{DB: db}
	s := &fositeStore{tokens: tokens, clientCache: clients.NewCache(db, time.Now), now: time.Now}
	grant := func() *fosite.Request {
		return &fosite.Request{ID: "grant", RequestedAt: time.Now(), Client: &fositeClient{c: &store.Client{ID: "app"}},
			Session: NewSession("alice")}
	}
	if err := s.CreateRefreshTokenSession(ctx, "r0", "a0", grant()); err != nil {
		t.Fatal(err)
	}
	// rotate does what fosite's refresh handler does with its storage.
	rotate := func(used, next string) error {
		tctx, err := s.BeginTX(ctx)
		if err != nil {
			return err
		}
		for _, step := range []func() error{
			func() error { return s.RotateRefreshToken(tctx, "grant", used) },
			func() error { return s.CreateAccessTokenSession(tctx, "a-"+next, grant()) },
			func() error { return s.CreateRefreshTokenSession(tctx, next, "a-"+next, grant()) },
			func() error { return s.Commit(tctx) },
		} {
			if err := step(); err != nil {
				s.Rollback(tctx)
				return err
			}
		}
		return nil
	}
	active := func(sig string) error {
		_, err := s.GetRefreshTokenSession(ctx, sig, NewSession(""))
		return err
	}

	tokens.down.Store(true)
	if err := rotate("r0", "r1"); !storeFailure(err) {
		t.Fatalf("rotation during an outage: %v, want a store failure", err)
	}
	tokens.down.Store(false)
	if err := active("r0"); err != nil {
		t.Fatalf("after the failed rotation the used token is %v, want still active", err)
	}
	if err := active("r1"); !errors.Is(err, fosite.ErrNotFound) {
		t.Fatalf("after the failed rotation its new token is %v, want not found", err)
	}
	if err := rotate("r0", "r1"); err != nil {
		t.Fatalf("the retry: %v", err)
	}
	if err := active("r1"); err != nil {
		t.Fatalf("the new token: %v", err)
	}
	if err := rotate("r0", "r2"); !errors.Is(err, fosite.ErrInactiveToken) {
		t.Fatalf("rotating the used token again: %v, want fosite.ErrInactiveToken (reuse)", err)
	}
	if err := active("r2"); !errors.Is(err, fosite.ErrNotFound) {
		t.Fatalf("a refused rotation stored its new token: %v", err)
	}
}
