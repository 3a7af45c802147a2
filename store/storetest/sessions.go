package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
)

func testConsents(t *testing.T, s store.Store) {
	if err := s.CreateUser(ctx(), sampleUser("u")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateClient(ctx(), sampleClient("c")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetConsent(ctx(), "u", "c"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetConsent before save: %v", err)
	}
	if err := s.SaveConsent(ctx(), &store.Consent{UserID: "u", ClientID: "c", Scopes: []string{"openid"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveConsent(ctx(), &store.Consent{UserID: "u", ClientID: "c", Scopes: []string{"openid", "email"}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetConsent(ctx(), "u", "c")
	if err != nil || !reflect.DeepEqual(got.Scopes, []string{"openid", "email"}) {
		t.Fatalf("GetConsent = %+v, %v", got, err)
	}
	if err := s.SaveConsent(ctx(), &store.Consent{UserID: "ghost", ClientID: "c"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("consent for a missing user: %v, want ErrNotFound", err)
	}
	if err := s.CreateClient(ctx(), sampleClient("c2")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx(), sampleUser("other")); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveConsent(ctx(), &store.Consent{UserID: "other", ClientID: "c2", Scopes: []string{"openid"}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond) // updated_at orders the list
	if err := s.SaveConsent(ctx(), &store.Consent{UserID: "u", ClientID: "c2", Scopes: []string{"profile"}}); err != nil {
		t.Fatal(err)
	}
	all, err := s.ListConsents(ctx(), "u")
	if err != nil || len(all) != 2 || all[0].ClientID != "c2" || all[1].ClientID != "c" ||
		!reflect.DeepEqual(all[1].Scopes, []string{"openid", "email"}) || all[0].CreatedAt.IsZero() {
		t.Fatalf("ListConsents = %+v, %v; want c2 then c", all, err)
	}
	if none, err := s.ListConsents(ctx(), "ghost"); err != nil || len(none) != 0 {
		t.Fatalf("ListConsents(ghost) = %+v, %v", none, err)
	}
	if err := s.DeleteConsent(ctx(), "u", "c2"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteConsent(ctx(), "u", "c2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteConsent twice: %v", err)
	}
	if o, err := s.GetConsent(ctx(), "other", "c2"); err != nil || o.UserID != "other" {
		t.Fatalf("another user's consent went too: %+v, %v", o, err)
	}
	// Deleting the client removes its consents.
	if err := s.DeleteClient(ctx(), "c"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetConsent(ctx(), "u", "c"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("consent survived its client: %v", err)
	}
}

func testBrowserSessions(t *testing.T, s store.Store) {
	if err := s.CreateUser(ctx(), sampleUser("u")); err != nil {
		t.Fatal(err)
	}
	exp := store.Truncate(time.Now().Add(time.Hour))
	if err := s.CreateBrowserSession(ctx(), &store.BrowserSession{ID: "s1", UserID: "u", ExpiresAt: exp,
		AMR: []string{"pwd", "otp", "mfa"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBrowserSession(ctx(), &store.BrowserSession{ID: "s1", UserID: "u", ExpiresAt: exp}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate session: %v", err)
	}
	got, err := s.GetBrowserSession(ctx(), "s1")
	if err != nil || got.UserID != "u" || !got.ExpiresAt.Equal(exp) || !reflect.DeepEqual(got.AMR, []string{"pwd", "otp", "mfa"}) {
		t.Fatalf("GetBrowserSession = %+v, %v", got, err)
	}
	if got.UserAgent != "" {
		t.Fatalf("UserAgent = %q, want empty", got.UserAgent)
	}
	if err := s.CreateUser(ctx(), sampleUser("v")); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, bs := range []*store.BrowserSession{
		{ID: "s2", UserID: "u", CreatedAt: store.Truncate(now.Add(time.Minute)), ExpiresAt: exp, UserAgent: "Firefox/140"},
		{ID: "old", UserID: "u", CreatedAt: store.Truncate(now.Add(-2 * time.Hour)), ExpiresAt: store.Truncate(now.Add(-time.Hour))},
		{ID: "v1", UserID: "v", ExpiresAt: exp},
	} {
		if err := s.CreateBrowserSession(ctx(), bs); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.ListUserBrowserSessions(ctx(), "u", now)
	if err != nil || len(list) != 2 || list[0].ID != "s2" || list[1].ID != "s1" || list[0].UserAgent != "Firefox/140" ||
		!reflect.DeepEqual(list[1].AMR, []string{"pwd", "otp", "mfa"}) {
		t.Fatalf("ListUserBrowserSessions = %+v, %v; want s2, s1 (not the expired one)", list, err)
	}
	if n, err := s.DeleteOtherBrowserSessions(ctx(), "u", "s1"); err != nil || n != 2 {
		t.Fatalf("DeleteOtherBrowserSessions = %d, %v; want 2 (s2 and the expired one)", n, err)
	}
	if _, err := s.GetBrowserSession(ctx(), "s2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("s2 survived: %v", err)
	}
	if _, err := s.GetBrowserSession(ctx(), "v1"); err != nil {
		t.Fatalf("another user's session went too: %v", err)
	}
	if n, err := s.DeleteOtherBrowserSessions(ctx(), "v", ""); err != nil || n != 1 {
		t.Fatalf("DeleteOtherBrowserSessions(keep none) = %d, %v", n, err)
	}
	if err := s.DeleteUser(ctx(), "u"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetBrowserSession(ctx(), "s1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session survived its user: %v", err)
	}
	if err := s.DeleteBrowserSession(ctx(), "s1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete missing session: %v", err)
	}
}

func testAudit(t *testing.T, s store.Store) {
	for _, id := range []string{"e1", "e2", "e3"} {
		if err := s.AppendAudit(ctx(), &store.AuditEvent{ID: id, Type: "client.created", Actor: "cli", Subject: "c", Data: []byte(`{"name":"x"}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AppendAudit(ctx(), &store.AuditEvent{ID: "e1", Type: "x", Actor: "cli"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate audit id: %v", err)
	}
	page, next, err := s.ListAudit(ctx(), store.AuditFilter{}, store.Page{Limit: 2})
	if err != nil || len(page) != 2 || page[1].ID != "e2" || next != store.AuditCursor(page[1]) {
		t.Fatalf("ListAudit = %d, %q, %v", len(page), next, err)
	}
	if page[0].Type != "client.created" || page[0].CreatedAt.IsZero() {
		t.Fatalf("event: %+v", page[0])
	}
	var data map[string]string
	if err := jsonUnmarshal(page[0].Data, &data); err != nil || data["name"] != "x" {
		t.Fatalf("event data %s: %v", page[0].Data, err)
	}
}

// testDurability writes one of everything, closes, reopens and reads it
// back.
func testDurability(t *testing.T, open func() store.Store) {
	s := open()
	if err := s.CreateClient(ctx(), sampleClient("durable")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx(), sampleUser("durable")); err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour)
	if err := s.CreateToken(ctx(), sampleToken(store.KindRefreshToken, "durable-sig", "durable-req", exp)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeJTI(ctx(), "durable-jti", exp); err != nil {
		t.Fatal(err)
	}
	ks, isKeys := s.(keys.Store)
	if isKeys {
		if err := ks.CreateAPIKey(ctx(), sampleAPIKey("durablekey", 7)); err != nil {
			t.Fatal(err)
		}
	}
	ss, isSigning := s.(signing.Store)
	if isSigning {
		insertSigning(t, ss, "ES256", signingRec("durable-kid", "ES256", signing.StateNext, signingT0))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open()
	defer s.Close()
	if c, err := s.GetClient(ctx(), "durable"); err != nil || c.Name != "App durable" {
		t.Fatalf("client after reopen: %+v %v", c, err)
	}
	if _, err := s.GetUserByUsername(ctx(), "user-durable"); err != nil {
		t.Fatalf("user after reopen: %v", err)
	}
	if tok, err := s.GetToken(ctx(), store.KindRefreshToken, "durable-sig"); err != nil || tok.RequestID != "durable-req" {
		t.Fatalf("token after reopen: %+v %v", tok, err)
	}
	revoked, err := s.ListRevokedJTIs(ctx(), time.Now())
	if err != nil || len(revoked) != 1 {
		t.Fatalf("revoked JTIs after reopen: %+v %v", revoked, err)
	}
	if isKeys {
		if k, err := s.(keys.Store).GetAPIKey(ctx(), "durablekey"); err != nil || len(k.Secrets) != 1 {
			t.Fatalf("API key after reopen: %+v %v", k, err)
		}
	}
	if isSigning {
		if r, err := s.(signing.Store).SigningKey(ctx(), "durable-kid"); err != nil || string(r.Sealed) != "sealed-durable-kid" {
			t.Fatalf("signing key after reopen: %+v %v", r, err)
		}
	}
}
