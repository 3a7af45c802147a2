package authz

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/sqlite/sqlitetest"
)

// TestGroupCommittedTokenWrites: records written concurrently through the
// group commit are each stored as written (read back through fosite's
// storage); a taken signature fails only its own write, with fosite's
// error for it; and a write made inside a store transaction joins that
// transaction (rolled back with it) instead of going to the group commit
// in a transaction of its own.
func TestGroupCommittedTokenWrites(t *testing.T) {
	ctx := context.Background()
	db := sqlitetest.Open(t)
	if err := db.CreateClient(ctx, &store.Client{ID: "app", Name: "App", GrantTypes: []string{"client_credentials"}}); err != nil {
		t.Fatal(err)
	}
	s := &fositeStore{tokens: db, clientCache: clients.NewCache(db, time.Now), now: time.Now,
		writes: newTokenWrites(db, nil)}
	grant := func(id string) *fosite.Request {
		return &fosite.Request{ID: id, RequestedAt: time.Now(), Client: &fositeClient{c: &store.Client{ID: "app"}},
			Session: NewSession("svc-" + id), GrantedScope: fosite.Arguments{"read"}}
	}
	if err := s.CreateAccessTokenSession(ctx, "taken", grant("first")); err != nil {
		t.Fatal(err)
	}
	const n = 32
	errs := make([]error, n+1)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = s.CreateAccessTokenSession(ctx, fmt.Sprint("sig-", i), grant(fmt.Sprint("g", i))) })
	}
	wg.Go(func() { errs[n] = s.CreateAccessTokenSession(ctx, "taken", grant("second")) })
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("write %d: %v", i, errs[i])
		}
		r, err := s.GetAccessTokenSession(ctx, fmt.Sprint("sig-", i), NewSession(""))
		if err != nil || r.GetID() != fmt.Sprint("g", i) || r.GetSession().GetSubject() != fmt.Sprint("svc-g", i) {
			t.Fatalf("record %d: %v %v", i, r, err)
		}
	}
	// fositeErr's answer for a duplicate signature, as for a lone write.
	var rfc *fosite.RFC6749Error
	if !errors.As(errs[n], &rfc) || rfc.ErrorField != fosite.ErrServerError.ErrorField ||
		rfc.DebugField != "duplicate token signature" {
		t.Errorf("a taken signature: %#v", errs[n])
	}
	if r, err := s.GetAccessTokenSession(ctx, "taken", NewSession("")); err != nil || r.GetID() != "first" {
		t.Errorf("the taken signature's record: %v %v", r, err)
	}

	// Inside a store transaction: rolled back with it.
	rollback := errors.New("roll back")
	err := db.InTx(ctx, func(ctx context.Context) error {
		if !store.InTransaction(ctx, db) {
			t.Error("InTransaction: false inside InTx")
		}
		if err := s.CreateAccessTokenSession(ctx, "in-tx", grant("tx")); err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatal(err)
	}
	if store.InTransaction(ctx, db) {
		t.Error("InTransaction: true outside InTx")
	}
	if _, err := s.GetAccessTokenSession(ctx, "in-tx", NewSession("")); !errors.Is(err, fosite.ErrNotFound) {
		t.Errorf("a write inside a rolled-back transaction: %v, want not found", err)
	}
}
