package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
)

// testUnavailable: a store whose database cannot be used (here: closed
// under the caller, as during a shutdown or a lost pool) answers every
// read and write with store.ErrUnavailable, never with ErrNotFound or
// ErrConflict: an outage is not a negative answer (DESIGN.md).
func testUnavailable(t *testing.T, s store.Store) {
	if err := s.CreateClient(ctx(), sampleClient("c1")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	calls := map[string]func() error{
		"GetClient":         func() error { _, err := s.GetClient(ctx(), "c1"); return err },
		"GetClient/unknown": func() error { _, err := s.GetClient(ctx(), "nope"); return err },
		"CreateClient":      func() error { return s.CreateClient(ctx(), sampleClient("c2")) },
		"ListClients":       func() error { _, _, err := s.ListClients(ctx(), store.Page{}); return err },
		"GetUser":           func() error { _, err := s.GetUser(ctx(), "u1"); return err },
		"GetUserByUsername": func() error { _, err := s.GetUserByUsername(ctx(), "alice"); return err },
		"CountAdmins":       func() error { _, err := s.CountAdmins(ctx()); return err },
		"GetToken":          func() error { _, err := s.GetToken(ctx(), store.KindRefreshToken, "sig"); return err },
		"DeactivateToken": func() error {
			_, err := s.DeactivateToken(ctx(), store.KindRefreshToken, "sig", now)
			return err
		},
		"ApplyTokenChanges": func() error {
			return s.ApplyTokenChanges(ctx(), []store.TokenChange{{Kind: store.KindRefreshToken, Signature: "sig", Delete: true}})
		},
		"ApplyTokenChangeSets": func() error {
			errs := store.ApplyTokenChangeSets(ctx(), s, [][]store.TokenChange{
				{{Create: sampleToken(store.KindAccessToken, "g1", "req", now.Add(time.Hour))}},
				{{Kind: store.KindRefreshToken, Signature: "sig", Deactivate: true, At: now}}})
			if !errors.Is(errs[0], store.ErrUnavailable) {
				return errs[0]
			}
			return errs[1]
		},
		"ListRevokedJTIs":   func() error { _, err := s.ListRevokedJTIs(ctx(), now); return err },
		"RevokeJTI":         func() error { return s.RevokeJTI(ctx(), "jti", now.Add(time.Hour)) },
		"GetBrowserSession": func() error { _, err := s.GetBrowserSession(ctx(), "sess"); return err },
		"GetConsent":        func() error { _, err := s.GetConsent(ctx(), "u1", "c1"); return err },
		"GetResourceByURI":  func() error { _, err := s.GetResourceByURI(ctx(), "https://api.example"); return err },
		"ListResources":     func() error { _, _, err := s.ListResources(ctx(), store.Page{}); return err },
		"ListAudit":         func() error { _, _, err := s.ListAudit(ctx(), store.AuditFilter{}, store.Page{}); return err },
		"ListAudit/filtered": func() error {
			_, _, err := s.ListAudit(ctx(), store.AuditFilter{Desc: true, Type: "client.*", Actor: "cli", Since: now}, store.Page{Cursor: "1700000000000000:x"})
			return err
		},
		"PollDeviceGrant": func() error {
			_, _, err := s.PollDeviceGrant(ctx(), "dev", now, time.Second)
			return err
		},
		"DecideDeviceGrant": func() error {
			return s.DecideDeviceGrant(ctx(), "user", store.DeviceDecision{Approved: true, UserID: "u1", At: now})
		},
	}
	for name, call := range calls {
		err := call()
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s on a closed store: %v, want store.ErrUnavailable", name, err)
		}
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s on a closed store: %v is a negative answer", name, err)
		}
	}
}
