package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/store"
)

// TestUsersResetFactorsCLI: "keyward users reset-factors USER" removes the
// user's TOTP authenticator, recovery codes and passkeys, ends their
// browser sessions and records user.factors_reset, on both engines.
func TestUsersResetFactorsCLI(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		var carol accounts.UserView
		e.runJSON(&carol, "carol password 1\n", "users", "create", "--username", "carol", "--password-stdin")
		db := e.open(t).(store.Store)
		ctx, now := context.Background(), time.Now().UTC()
		if err := db.PutTOTP(ctx, &store.TOTPFactor{UserID: carol.ID, Secret: []byte{1, 2, 3}, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := db.UseTOTP(ctx, carol.ID, 100, true, now); err != nil {
			t.Fatal(err)
		}
		if err := db.ReplaceRecoveryCodes(ctx, carol.ID, []string{"d1", "d2"}, now); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"cred-a", "cred-b"} {
			if err := db.CreateWebAuthnCredential(ctx, &store.WebAuthnCredential{ID: []byte(id), UserID: carol.ID,
				Name: id, PublicKey: []byte{9}, CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.CreateBrowserSession(ctx, &store.BrowserSession{ID: "carol-session", UserID: carol.ID,
			CreatedAt: store.Truncate(now), ExpiresAt: store.Truncate(now.Add(time.Hour))}); err != nil {
			t.Fatal(err)
		}

		var got map[string]any
		e.runJSON(&got, "", "users", "reset-factors", "carol")
		if got["id"] != carol.ID || got["totp_removed"] != true || got["passkeys_removed"] != float64(2) || got["sessions_ended"] != float64(1) {
			t.Fatalf("reset-factors: %v", got)
		}
		if _, err := db.GetTOTP(ctx, carol.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("TOTP after reset: %v", err)
		}
		if n, err := db.CountRecoveryCodes(ctx, carol.ID); err != nil || n != 0 {
			t.Errorf("recovery codes after reset: %d, %v", n, err)
		}
		if creds, err := db.ListWebAuthnCredentials(ctx, carol.ID); err != nil || len(creds) != 0 {
			t.Errorf("passkeys after reset: %d, %v", len(creds), err)
		}
		if _, err := db.GetBrowserSession(ctx, "carol-session"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("session after reset: %v", err)
		}
		// Again: nothing left to remove, still fine.
		e.runJSON(&got, "", "users", "reset-factors", carol.ID)
		if got["totp_removed"] != false || got["passkeys_removed"] != float64(0) {
			t.Errorf("second reset: %v", got)
		}
		code, _, errs := e.run("", "users", "reset-factors", "nobody", "--format", "json")
		if code != 1 || !strings.Contains(errs, `"error"`) {
			t.Errorf("unknown user: exit %d %s", code, errs)
		}
		if code, _, _ := e.run("", "users", "reset-factors"); code != 2 {
			t.Errorf("no user: exit %d, want 2", code)
		}
		events, _, err := db.ListAudit(ctx, store.AuditFilter{Subject: carol.ID, Type: "user.factors_reset"}, store.Page{Limit: 10})
		if err != nil || len(events) != 2 || events[0].Actor != "cli" {
			t.Fatalf("user.factors_reset events: %+v, %v", events, err)
		}
		var data map[string]any
		if err := json.Unmarshal(events[0].Data, &data); err != nil || data["passkeys"] != float64(2) || data["totp"] != true {
			t.Errorf("first user.factors_reset data: %s", events[0].Data)
		}
	})
}
