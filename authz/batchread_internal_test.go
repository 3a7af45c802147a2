package authz

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/sqlite/sqlitetest"
)

// TestBatchedTokenReads: introspection's reads (withBatchedReads), made
// concurrently so that they share queries, answer for each token exactly
// what a direct read does: active, inactive (deactivated) and missing
// records, access and refresh tokens.
func TestBatchedTokenReads(t *testing.T) {
	ctx := context.Background()
	db := sqlitetest.Open(t)
	if err := db.CreateClient(ctx, &store.Client{ID: "app", Name: "App", GrantTypes: []string{"refresh_token"}}); err != nil {
		t.Fatal(err)
	}
	direct := &fositeStore{tokens: db, clientCache: clients.NewCache(db, time.Now), now: time.Now}
	batched := &fositeStore{tokens: db, clientCache: clients.NewCache(db, time.Now), now: time.Now,
		batched: newTokenLoaders(db, nil)}
	if batched.batched == nil {
		t.Fatal("the SQLite store reads no batches")
	}
	grant := func(id string) *fosite.Request {
		return &fosite.Request{ID: id, RequestedAt: time.Now(), Client: &fositeClient{c: &store.Client{ID: "app"}},
			Session: NewSession("alice"), GrantedScope: fosite.Arguments{"read"}}
	}
	const n = 40
	sigs := make([]string, 0, n+2)
	for i := range n {
		sig := "sig" + string(rune('A'+i))
		if err := direct.CreateAccessTokenSession(ctx, sig, grant("g"+sig)); err != nil {
			t.Fatal(err)
		}
		if err := direct.CreateRefreshTokenSession(ctx, sig, sig, grant("g"+sig)); err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			if _, err := db.DeactivateToken(ctx, store.KindAccessToken, sig, time.Now()); err != nil {
				t.Fatal(err)
			}
			if _, err := db.DeactivateToken(ctx, store.KindRefreshToken, sig, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		sigs = append(sigs, sig)
	}
	sigs = append(sigs, "missing", "also-missing")

	type answer struct {
		id  string
		err error
	}
	read := func(s *fositeStore, ctx context.Context, refresh bool, sig string) answer {
		var r fosite.Requester
		var err error
		if refresh {
			r, err = s.GetRefreshTokenSession(ctx, sig, NewSession(""))
		} else {
			r, err = s.GetAccessTokenSession(ctx, sig, NewSession(""))
		}
		a := answer{err: err}
		if r != nil {
			a.id = r.GetID() + " " + r.GetSession().GetSubject() + " " + strings.Join(r.GetGrantedScopes(), ",")
		}
		return a
	}
	for _, refresh := range []bool{false, true} {
		got := make([]answer, len(sigs))
		var wg sync.WaitGroup
		for i, sig := range sigs {
			wg.Go(func() { got[i] = read(batched, withBatchedReads(ctx), refresh, sig) })
		}
		wg.Wait()
		for i, sig := range sigs {
			want := read(direct, ctx, refresh, sig)
			if got[i].id != want.id || !sameErr(got[i].err, want.err) {
				t.Errorf("refresh=%v %s: batched %q, %v; direct %q, %v", refresh, sig, got[i].id, got[i].err, want.id, want.err)
			}
		}
		if !errors.Is(got[0].err, fosite.ErrInactiveToken) || got[1].err != nil || !errors.Is(got[n].err, fosite.ErrNotFound) {
			t.Errorf("refresh=%v: inactive %v, active %v, missing %v", refresh, got[0].err, got[1].err, got[n].err)
		}
	}
}

// sameErr reports whether a and b are both nil or the same fosite error.
func sameErr(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	return errors.Is(a, b) || a.Error() == b.Error()
}
