package accounts

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/sqlite"
)

func testSecret(b byte) keys.Secret { return keys.Secret(bytes.Repeat([]byte{b}, 32)) }

// TestProvidersSealSecret: the client secret is stored sealed, opens only
// with the same system secret and row, and never shows in the view; the
// defaults fill in; every problem is listed; an update keeps the secret
// unless it is given.
func TestProvidersSealSecret(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	ctx := context.Background()
	auditor := &store.Auditor{Store: db, NewID: seqIDs("ev"), Now: time.Now}
	ps, err := NewProviders(ProvidersConfig{Store: db, Secret: testSecret(1), NewID: seqIDs("p"),
		Issuer: "https://kw.example/", Auditor: auditor})
	if err != nil {
		t.Fatal(err)
	}
	up, err := ps.Create(ctx, ProviderParams{Name: "corp", Issuer: "https://idp.example", ClientID: "kw",
		ClientSecret: "top-secret-value", Scopes: []string{"email"}})
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := db.GetUpstreamProvider(ctx, up.ID)
	if bytes.Contains(stored.ClientSecret, []byte("top-secret-value")) {
		t.Fatal("the client secret is stored in the clear")
	}
	if s, err := ps.ClientSecret(stored); err != nil || s != "top-secret-value" {
		t.Fatalf("ClientSecret = %q, %v", s, err)
	}
	if stored.DisplayName != "corp" || strings.Join(stored.Scopes, " ") != "openid email" ||
		stored.ClaimUsername != DefaultClaimUsername || !stored.Enabled {
		t.Errorf("defaults: %+v", stored)
	}
	if v := ps.View(stored); v.RedirectURI != "https://kw.example/oauth2/upstream/corp/callback" {
		t.Errorf("redirect_uri %q", v.RedirectURI)
	}
	other, _ := NewProviders(ProvidersConfig{Store: db, Secret: testSecret(2), NewID: seqIDs("q")})
	if _, err := other.ClientSecret(stored); !errors.Is(err, ErrUnseal) {
		t.Errorf("another system secret: %v, want ErrUnseal", err)
	}
	moved := *stored
	moved.ID = "another-row"
	if _, err := ps.ClientSecret(&moved); !errors.Is(err, ErrUnseal) {
		t.Errorf("moved to another row: %v, want ErrUnseal", err)
	}

	_, err = ps.Create(ctx, ProviderParams{Name: "Corp!", Issuer: "http://idp.example/?q", Scopes: []string{`a"b`}})
	var ve *store.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 5 {
		t.Errorf("invalid: %v", err)
	}
	if _, err := ps.Create(ctx, ProviderParams{Name: "corp", Issuer: "http://127.0.0.1:9", ClientID: "x", ClientSecret: "y"}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("same name: %v", err)
	}

	off := false
	up, err = ps.Update(ctx, "corp", ProviderPatch{Enabled: &off})
	if err != nil || up.Enabled {
		t.Fatalf("disable: %+v, %v", up, err)
	}
	if s, _ := ps.ClientSecret(up); s != "top-secret-value" {
		t.Errorf("secret after update %q", s)
	}
	if _, err := ps.Delete(ctx, up.ID); err != nil {
		t.Fatal(err)
	}
	evs, _, _ := db.ListAudit(ctx, store.AuditFilter{Type: "upstream_provider.*"}, store.Page{})
	if len(evs) != 3 {
		t.Errorf("%d upstream_provider events, want created, updated, deleted", len(evs))
	}
	for _, ev := range evs {
		if bytes.Contains(ev.Data, []byte("top-secret")) {
			t.Errorf("the secret is in the audit event %s", ev.Type)
		}
	}
}

// failingLinks fails every CreateUpstreamIdentity, as a database that
// goes away mid-transaction would.
type failingLinks struct{ *sqlite.DB }

func (failingLinks) CreateUpstreamIdentity(context.Context, *store.UpstreamIdentity) error {
	return errDown
}

// TestFederationAtomic: when the link cannot be stored, the new account
// and its audit event are not stored either; a disabled user's identity
// is refused.
func TestFederationAtomic(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	ctx := context.Background()
	auditor := &store.Auditor{Store: db, NewID: seqIDs("ev"), Now: time.Now}
	up := &store.UpstreamProvider{ID: "p1", Name: "corp", Issuer: "https://idp.example", ClientID: "kw",
		ClientSecret: []byte{1}, Enabled: true}
	if err := db.CreateUpstreamProvider(ctx, up); err != nil {
		t.Fatal(err)
	}
	f := &Federation{Store: failingLinks{db}, NewID: seqIDs("u"), Auditor: auditor}
	if _, _, err := f.Resolve(ctx, up, UpstreamClaims{Subject: "s1", Username: "erin"}); !errors.Is(err, errDown) {
		t.Fatalf("Resolve: %v, want the store's failure", err)
	}
	if _, err := db.GetUserByUsername(ctx, "erin"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("half-created account: %v", err)
	}
	if evs, _, _ := db.ListAudit(ctx, store.AuditFilter{}, store.Page{}); len(evs) != 0 {
		t.Errorf("%d audit events of a rolled-back sign-in", len(evs))
	}

	f.Store = db
	u, how, err := f.Resolve(ctx, up, UpstreamClaims{Subject: "s1", Username: "  erin / x "})
	if err != nil || how != FederatedCreated || u.Username != "erin---x" {
		t.Fatalf("Resolve: %+v %q %v", u, how, err)
	}
	u.Disabled = true
	if err := db.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.Resolve(ctx, up, UpstreamClaims{Subject: "s1"}); !errors.Is(err, ErrUserDisabled) {
		t.Errorf("disabled user: %v", err)
	}
	if _, _, err := f.Resolve(ctx, up, UpstreamClaims{}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("no sub: %v", err)
	}
}
