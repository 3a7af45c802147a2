package authz

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/postgres/postgrestest"
	"github.com/keyward/keyward/store/sqlite/sqlitetest"
)

// groupCommitting returns db, with a client "app", and a fositeStore over
// it as the Provider makes it (its writes watched by an opaque cache)
// that group-commits its writes when grouped.
func groupCommitting[DB store.Store](tb testing.TB, db DB, grouped bool) (DB, *fositeStore) {
	tb.Helper()
	if err := db.CreateClient(context.Background(), &store.Client{ID: "app", Name: "App",
		GrantTypes: []string{"client_credentials", "refresh_token"}}); err != nil {
		tb.Fatal(err)
	}
	tokens := &watchedTokens{TokenStore: db, cache: newOpaqueCache(time.Now, nil)}
	s := &fositeStore{tokens: tokens, clientCache: clients.NewCache(db, time.Now), now: time.Now}
	if grouped {
		s.writes = newTokenWrites(tokens, nil)
	}
	return db, s
}

// appGrant is a request of grant id by client "app" for subject "svc-"+id.
func appGrant(id string) *fosite.Request {
	return &fosite.Request{ID: id, RequestedAt: time.Now(), Client: &fositeClient{c: &store.Client{ID: "app"}},
		Session: NewSession("svc-" + id), GrantedScope: fosite.Arguments{"read"}}
}

// TestGroupCommittedTokenWrites: records written concurrently through the
// group commit are each stored as written (read back through fosite's
// storage); a taken signature fails only its own write, with fosite's
// error for it; and a write made inside a store transaction joins that
// transaction (rolled back with it) instead of going to the group commit
// in a transaction of its own.
func TestGroupCommittedTokenWrites(t *testing.T) {
	ctx := context.Background()
	db, s := groupCommitting(t, sqlitetest.Open(t), true)
	if err := s.CreateAccessTokenSession(ctx, "taken", appGrant("first")); err != nil {
		t.Fatal(err)
	}
	const n = 32
	errs := make([]error, n+1)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = s.CreateAccessTokenSession(ctx, fmt.Sprint("sig-", i), appGrant(fmt.Sprint("g", i))) })
	}
	wg.Go(func() { errs[n] = s.CreateAccessTokenSession(ctx, "taken", appGrant("second")) })
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
		if !store.InTransaction(ctx, db) || s.grouped(ctx) {
			t.Error("inside InTx: not seen as a transaction, or grouped")
		}
		if err := s.CreateAccessTokenSession(ctx, "in-tx", appGrant("tx")); err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatal(err)
	}
	if store.InTransaction(ctx, db) || !s.grouped(ctx) {
		t.Error("outside InTx: seen as a transaction, or not grouped")
	}
	if _, err := s.GetAccessTokenSession(ctx, "in-tx", NewSession("")); !errors.Is(err, fosite.ErrNotFound) {
		t.Errorf("a write inside a rolled-back transaction: %v, want not found", err)
	}
}

// TestGroupCommittedRotations: fosite transactions committed concurrently
// through the group commit (refresh-token rotations) are each all or
// none: of distinct grants every rotation lands whole; of many rotations
// of one refresh token exactly one lands, and each of the others answers
// fosite.ErrInactiveToken (what fosite takes for reuse) with none of its
// records written.
func TestGroupCommittedRotations(t *testing.T) {
	ctx := context.Background()
	db, s := groupCommitting(t, sqlitetest.Open(t), true)
	// rotate rotates refresh token old of grant id to next, as fosite's
	// refresh handler does: in a transaction, committed at the end.
	rotate := func(id, old, next string) error {
		tctx, err := s.BeginTX(ctx)
		if err != nil {
			return err
		}
		if err := s.RotateRefreshToken(tctx, id, old); err != nil {
			return err
		}
		if err := s.CreateAccessTokenSession(tctx, "a-"+next, appGrant(id)); err != nil {
			return err
		}
		if err := s.CreateRefreshTokenSession(tctx, next, "a-"+next, appGrant(id)); err != nil {
			return err
		}
		return s.Commit(tctx)
	}
	const n = 24
	for i := range n {
		if err := db.CreateToken(ctx, &store.TokenRecord{Kind: store.KindRefreshToken, Signature: fmt.Sprint("r", i),
			RequestID: fmt.Sprint("g", i), ClientID: "app", Active: true, Data: []byte("{}"), RequestedAt: time.Now(),
			ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.CreateToken(ctx, &store.TokenRecord{Kind: store.KindRefreshToken, Signature: "shared",
		RequestID: "gs", ClientID: "app", Active: true, Data: []byte("{}"), RequestedAt: time.Now(),
		ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	errs := make([]error, 2*n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = rotate(fmt.Sprint("g", i), fmt.Sprint("r", i), fmt.Sprint("r", i, "-next")) })
		wg.Go(func() { errs[n+i] = rotate("gs", "shared", fmt.Sprint("shared-", i)) })
	}
	wg.Wait()
	active := func(kind store.TokenKind, sig string) (exists, isActive bool) {
		r, err := db.GetToken(ctx, kind, sig)
		if errors.Is(err, store.ErrNotFound) {
			return false, false
		}
		if err != nil {
			t.Fatal(err)
		}
		return true, r.Active
	}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("rotation of grant %d: %v", i, errs[i])
		}
		if ok, on := active(store.KindRefreshToken, fmt.Sprint("r", i)); !ok || on {
			t.Errorf("grant %d: the used refresh token is not inactive", i)
		}
		if ok, on := active(store.KindRefreshToken, fmt.Sprint("r", i, "-next")); !ok || !on {
			t.Errorf("grant %d: the new refresh token is missing", i)
		}
	}
	won := 0
	for i := range n {
		next := fmt.Sprint("shared-", i)
		newRefresh, _ := active(store.KindRefreshToken, next)
		newAccess, _ := active(store.KindAccessToken, "a-"+next)
		switch err := errs[n+i]; {
		case err == nil:
			won++
			if !newRefresh || !newAccess {
				t.Errorf("the winning rotation %d lacks its records", i)
			}
		case errors.Is(err, fosite.ErrInactiveToken):
			if newRefresh || newAccess {
				t.Errorf("the losing rotation %d wrote records", i)
			}
		default:
			t.Errorf("rotation %d of the shared token: %v, want nil or fosite.ErrInactiveToken", i, err)
		}
	}
	if won != 1 {
		t.Errorf("%d rotations of one refresh token landed, want 1", won)
	}
}

// BenchmarkRotationCommit: refresh-token rotations (deactivate the used
// token, write the new access and refresh tokens, in one fosite
// transaction) committed by 32 concurrent callers, each in its own
// transaction ("alone") or through the group commit ("grouped"), on the
// real SQLite store and PostgreSQL (skipped when unreachable).
func BenchmarkRotationCommit(b *testing.B) {
	engines := map[string]func(b *testing.B) store.Store{
		"sqlite":   func(b *testing.B) store.Store { return sqlitetest.Open(b) },
		"postgres": func(b *testing.B) store.Store { return postgrestest.Open(b) },
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		for _, grouped := range []bool{false, true} {
			name := engine + "/" + map[bool]string{false: "alone", true: "grouped"}[grouped]
			b.Run(name, func(b *testing.B) {
				db := engines[engine](b)
				benchRotations(b, db, grouped)
			})
		}
	}
}

func benchRotations(b *testing.B, db store.Store, grouped bool) {
	ctx := context.Background()
	_, s := groupCommitting(b, db, grouped)
	req := appGrant("grant")
	// Each rotation uses a refresh token of its own, written beforehand.
	var recs []*store.TokenRecord
	for i := range b.N {
		recs = append(recs, &store.TokenRecord{Kind: store.KindRefreshToken, Signature: fmt.Sprint("r", i),
			RequestID: "grant", ClientID: "app", Active: true, Data: []byte("{}"), RequestedAt: time.Now(),
			ExpiresAt: time.Now().Add(time.Hour)})
	}
	for i := 0; i < len(recs); i += 1000 {
		changes := make([]store.TokenChange, 0, 1000)
		for _, r := range recs[i:min(i+1000, len(recs))] {
			changes = append(changes, store.TokenChange{Create: r})
		}
		if err := db.ApplyTokenChanges(ctx, changes); err != nil {
			b.Fatal(err)
		}
	}
	var next atomic.Int64
	b.SetParallelism(16) // 32 callers on 2 cores
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			old := fmt.Sprint("r", i)
			tctx, _ := s.BeginTX(ctx)
			err := s.RotateRefreshToken(tctx, "grant", old)
			if err == nil {
				err = s.CreateAccessTokenSession(tctx, "a-"+old, req)
			}
			if err == nil {
				err = s.CreateRefreshTokenSession(tctx, "n-"+old, "a-"+old, req)
			}
			if err == nil {
				err = s.Commit(tctx)
			}
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}
