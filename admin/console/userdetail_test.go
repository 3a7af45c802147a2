package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/store"
)

// TestConsoleUserDetail: the user page, linked from the list, edits the
// name and email (one error beside each bad field, 422), sets a password,
// disables and enables, and resets second factors; each change is
// audited as the console's admin, and a form without its CSRF token is
// refused.
func TestConsoleUserDetail(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	b := e.setup("root", adminPassword)
	ctx := context.Background()
	root, _ := e.db.GetUserByUsername(ctx, "root")
	erin := e.user("erin", "erin password 1", false)
	path := "/console/users/" + erin.ID

	list := b.get("/console/users")
	if !list.hasLink(path) {
		t.Fatalf("the users list does not link to %s:\n%s", path, list.body)
	}
	p := b.get(path)
	p.want(http.StatusOK, path)
	if !strings.Contains(p.byID("user-username"), "erin") || p.byID("user-status") != "enabled" {
		t.Fatalf("user page: %s", p.body)
	}

	// Two bad fields: each its own error beside it; nothing saved.
	got := b.submit(p, path, url.Values{"name": {strings.Repeat("n", 300)}, "email": {"not an address"}})
	got.want(http.StatusUnprocessableEntity, path)
	if !strings.Contains(got.byID("name-error"), "256") || !strings.Contains(got.byID("email-error"), "not a valid address") {
		t.Errorf("field errors: name %q, email %q", got.byID("name-error"), got.byID("email-error"))
	}
	if v := got.form(path).Get("email"); v != "not an address" {
		t.Errorf("the typed email was not kept: %q", v)
	}
	if u, _ := e.db.GetUser(ctx, erin.ID); u.Name != "" || u.Email != "" {
		t.Errorf("a refused edit saved: %+v", u)
	}
	got = b.submit(p, path, url.Values{"name": {"Erin E."}, "email": {"erin@example.com"}})
	got.want(http.StatusOK, path)
	if u, _ := e.db.GetUser(ctx, erin.ID); u.Name != "Erin E." || u.Email != "erin@example.com" {
		t.Errorf("edit not saved: %+v", u)
	}

	// Password: mismatch and policy each beside their field, then set.
	got = b.submit(p, path+"/password", url.Values{"password": {"erin password 2"}, "confirm": {"other"}})
	got.want(http.StatusUnprocessableEntity, path+"/password")
	if got.byID("confirm-error") == "" {
		t.Errorf("no error beside confirm: %s", got.body)
	}
	got = b.submit(p, path+"/password", url.Values{"password": {"short"}, "confirm": {"short"}})
	got.want(http.StatusUnprocessableEntity, path+"/password")
	if !strings.Contains(got.byID("password-error"), "password") {
		t.Errorf("no error beside password: %s", got.body)
	}
	got = b.submit(p, path+"/password", url.Values{"password": {"erin password 2"}, "confirm": {"erin password 2"}})
	got.want(http.StatusOK, path)
	if u, _ := e.db.GetUser(ctx, erin.ID); !mustCheck(t, u.PasswordHash, "erin password 2") {
		t.Error("the password did not change")
	}

	// Disable, then enable.
	p = b.get(path)
	got = b.submit(p, path+"/status", nil)
	got.want(http.StatusOK, path)
	if u, _ := e.db.GetUser(ctx, erin.ID); !u.Disabled || got.byID("user-status") != "disabled" {
		t.Errorf("not disabled: %+v", u)
	}
	got = b.submit(got, path+"/status", nil)
	if u, _ := e.db.GetUser(ctx, erin.ID); u.Disabled {
		t.Errorf("not enabled again")
	}
	// The last enabled admin cannot disable themself here either.
	rp := b.get("/console/users/" + root.ID)
	if r := b.submit(rp, "/console/users/"+root.ID+"/status", nil); r.status != http.StatusConflict || !strings.Contains(r.body, "last administrator") {
		t.Errorf("disabling the last admin: %d", r.status)
	}

	// Reset factors.
	now := time.Now().UTC()
	if err := e.db.PutTOTP(ctx, &store.TOTPFactor{UserID: erin.ID, Secret: []byte{1}, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := e.db.UseTOTP(ctx, erin.ID, 5, true, now); err != nil {
		t.Fatal(err)
	}
	if err := e.db.CreateWebAuthnCredential(ctx, &store.WebAuthnCredential{ID: []byte("pk"), UserID: erin.ID, PublicKey: []byte{1}, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	p = b.get(path)
	if f := p.byID("user-factors"); !strings.Contains(f, "authenticator app") || !strings.Contains(f, "1 passkey ") {
		t.Errorf("factors shown: %q", f)
	}
	// Without the CSRF token: refused, nothing removed.
	if r := b.post(path+"/reset-factors", url.Values{}); r.status != http.StatusForbidden {
		t.Errorf("reset without CSRF: %d", r.status)
	}
	got = b.submit(p, path+"/reset-factors", nil)
	got.want(http.StatusOK, path)
	if f := got.byID("user-factors"); strings.Contains(f, "authenticator app") || !strings.Contains(f, "0 passkeys") {
		t.Errorf("factors after reset: %q", f)
	}
	if _, err := e.db.GetTOTP(ctx, erin.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TOTP after reset: %v", err)
	}

	evs, _, err := e.db.ListAudit(ctx, store.AuditFilter{Subject: erin.ID}, store.Page{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, ev := range evs {
		if ev.Type == "user.created" {
			continue
		}
		types = append(types, ev.Type)
		if ev.Actor != "user:"+root.ID {
			t.Errorf("%s by %q, want user:%s", ev.Type, ev.Actor, root.ID)
		}
	}
	if want := "user.updated user.updated user.updated user.updated user.factors_reset"; strings.Join(types, " ") != want {
		t.Errorf("audit: %v, want %s", types, want)
	}
}

func mustCheck(t *testing.T, hash, password string) bool {
	t.Helper()
	ok, err := accounts.CheckPassword(hash, password)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}
