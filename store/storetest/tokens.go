package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
)

func sampleToken(kind store.TokenKind, sig, req string, expires time.Time) *store.TokenRecord {
	return &store.TokenRecord{
		Kind: kind, Signature: sig, RequestID: req, ClientID: "client", Subject: "alice",
		Active: true, Data: []byte(`{"scopes":["openid"]}`),
		RequestedAt: store.Truncate(time.Now()), ExpiresAt: store.Truncate(expires),
	}
}

func testTokensLifecycle(t *testing.T, s store.Store) {
	exp := time.Now().Add(time.Hour)
	r := sampleToken(store.KindRefreshToken, "sig1", "req1", exp)
	r.AccessSignature = "asig1"
	if err := s.CreateToken(ctx(), r); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(ctx(), sampleToken(store.KindRefreshToken, "sig1", "req2", exp)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate signature: %v", err)
	}
	// The same signature under another kind is a different record.
	if err := s.CreateToken(ctx(), sampleToken(store.KindAccessToken, "sig1", "req1", exp)); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetToken(ctx(), store.KindRefreshToken, "sig1")
	if err != nil {
		t.Fatal(err)
	}
	if got.RequestID != "req1" || got.AccessSignature != "asig1" || !got.Active ||
		string(got.Data) != string(r.Data) || !got.ExpiresAt.Equal(r.ExpiresAt) || !got.InactiveAt.IsZero() {
		t.Fatalf("GetToken: %+v", got)
	}
	at := store.Truncate(time.Now())
	first, err := s.DeactivateToken(ctx(), store.KindRefreshToken, "sig1", at)
	if err != nil || !first {
		t.Fatalf("first deactivate: %v %v", first, err)
	}
	again, err := s.DeactivateToken(ctx(), store.KindRefreshToken, "sig1", at)
	if err != nil || again {
		t.Fatalf("second deactivate: %v %v (want false, nil)", again, err)
	}
	got, _ = s.GetToken(ctx(), store.KindRefreshToken, "sig1")
	if got.Active || !got.InactiveAt.Equal(at) {
		t.Fatalf("after deactivate: active=%v inactive_at=%v", got.Active, got.InactiveAt)
	}
	if _, err := s.DeactivateToken(ctx(), store.KindRefreshToken, "missing", at); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deactivate missing: %v", err)
	}
	if err := s.DeleteToken(ctx(), store.KindRefreshToken, "sig1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetToken(ctx(), store.KindRefreshToken, "sig1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if err := s.DeleteToken(ctx(), store.KindRefreshToken, "sig1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

func testTokensRequest(t *testing.T, s store.Store) {
	exp := time.Now().Add(time.Hour)
	for _, r := range []*store.TokenRecord{
		sampleToken(store.KindAuthorizeCode, "c", "grant", exp),
		sampleToken(store.KindAccessToken, "a1", "grant", exp),
		sampleToken(store.KindRefreshToken, "r1", "grant", exp),
		sampleToken(store.KindRefreshToken, "r2", "grant", exp),
		sampleToken(store.KindRefreshToken, "other", "other-grant", exp),
	} {
		if err := s.CreateToken(ctx(), r); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.ListRequest(ctx(), store.KindRefreshToken, "grant")
	if err != nil || len(list) != 2 || list[0].RequestID != "grant" || list[1].RequestID != "grant" {
		t.Fatalf("ListRequest = %v, %v; want r1 and r2", list, err)
	}
	if list, _ := s.ListRequest(ctx(), store.KindRefreshToken, "none"); len(list) != 0 {
		t.Fatalf("ListRequest of an unknown grant = %v", list)
	}
	if err := s.DeactivateRequest(ctx(), store.KindRefreshToken, "grant", time.Now()); err != nil {
		t.Fatal(err)
	}
	for sig, want := range map[string]bool{"r1": false, "r2": false, "other": true} {
		got, err := s.GetToken(ctx(), store.KindRefreshToken, sig)
		if err != nil || got.Active != want {
			t.Fatalf("%s: active=%v err=%v, want %v", sig, got.Active, err, want)
		}
	}
	if a, _ := s.GetToken(ctx(), store.KindAccessToken, "a1"); !a.Active {
		t.Fatal("DeactivateRequest touched another kind")
	}
	if err := s.DeleteRequest(ctx(), "grant"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []struct {
		kind store.TokenKind
		sig  string
	}{{store.KindAuthorizeCode, "c"}, {store.KindAccessToken, "a1"}, {store.KindRefreshToken, "r2"}} {
		if _, err := s.GetToken(ctx(), k.kind, k.sig); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s/%s survived DeleteRequest: %v", k.kind, k.sig, err)
		}
	}
	if _, err := s.GetToken(ctx(), store.KindRefreshToken, "other"); err != nil {
		t.Fatalf("DeleteRequest removed another grant: %v", err)
	}
}

func testTokensExpiry(t *testing.T, s store.Store) {
	now := time.Now()
	s.CreateToken(ctx(), sampleToken(store.KindAccessToken, "old", "r1", now.Add(-time.Minute)))
	s.CreateToken(ctx(), sampleToken(store.KindAccessToken, "new", "r2", now.Add(time.Minute)))
	n, err := s.DeleteExpiredTokens(ctx(), now)
	if err != nil || n != 1 {
		t.Fatalf("DeleteExpiredTokens = %d, %v; want 1", n, err)
	}
	if _, err := s.GetToken(ctx(), store.KindAccessToken, "new"); err != nil {
		t.Fatal(err)
	}
}

func testRevocation(t *testing.T, s store.Store) {
	now := time.Now()
	if err := s.RevokeJTI(ctx(), "j1", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeJTI(ctx(), "j1", now.Add(time.Hour)); err != nil {
		t.Fatalf("revoke twice must be idempotent: %v", err)
	}
	s.RevokeJTI(ctx(), "j2", now.Add(-time.Hour))
	list, err := s.ListRevokedJTIs(ctx(), now)
	if err != nil || len(list) != 1 || list[0].JTI != "j1" {
		t.Fatalf("ListRevokedJTIs = %+v, %v", list, err)
	}
	n, err := s.DeleteExpiredJTIs(ctx(), now)
	if err != nil || n != 1 {
		t.Fatalf("DeleteExpiredJTIs = %d, %v", n, err)
	}
}
