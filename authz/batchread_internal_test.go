package authz

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/sqlite/sqlitetest"
)

// TestBatchedTokenReads: introspection's reads, made concurrently so that
// they share queries, answer for each token exactly what a direct read
// does: active, inactive (deactivated) and missing records, access and
// refresh tokens.
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
		rec introspectedRecord
		err error
	}
	read := func(s *fositeStore, refresh bool, sig string) answer {
		kind := store.KindAccessToken
		if refresh {
			kind = store.KindRefreshToken
		}
		rec, err := s.introspected(ctx, kind, sig)
		return answer{rec, err}
	}
	for _, refresh := range []bool{false, true} {
		got := make([]answer, len(sigs))
		var wg sync.WaitGroup
		for i, sig := range sigs {
			wg.Go(func() { got[i] = read(batched, refresh, sig) })
		}
		wg.Wait()
		for i, sig := range sigs {
			want := read(direct, refresh, sig)
			if !reflect.DeepEqual(got[i], want) {
				t.Errorf("refresh=%v %s: batched %+v; direct %+v", refresh, sig, got[i], want)
			}
			if a := got[i]; a.err == nil && a.rec.active &&
				(a.rec.err != nil || a.rec.req.ID != "g"+sig || a.rec.req.Session.OIDC.Subject != "alice" ||
					strings.Join(a.rec.req.GrantedScope, ",") != "read") {
				t.Errorf("refresh=%v %s: read %+v, %v", refresh, sig, a.rec.req, a.rec.err)
			}
		}
		if got[0].err != nil || got[0].rec.active || got[0].rec.req != nil || got[1].err != nil || !got[1].rec.active ||
			!errors.Is(got[n].err, store.ErrNotFound) {
			t.Errorf("refresh=%v: inactive %+v, active %+v, missing %v", refresh, got[0], got[1], got[n].err)
		}
	}
}
