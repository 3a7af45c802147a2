package clients

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
)

// TestRegistryRegister: a registered client is marked, keeps its
// metadata, is audited as client.registered, and only its registration
// access token (stored as a keyed digest) finds it; an update keeps the
// token; a store failure is never a mismatch.
func TestRegistryRegister(t *testing.T) {
	t.Parallel()
	bs := &brokenClients{}
	f := newRegistry(t, func(c *Config) { bs.ClientStore = c.Store; c.Store = bs })
	ctx := context.Background()
	meta := json.RawMessage(`{"client_uri":"https://app.example"}`)
	cl, secret, rat, err := f.reg.Register(ctx, Params{Name: "app", RedirectURIs: []string{"https://app.example/cb"}}, meta)
	if err != nil {
		t.Fatal(err)
	}
	if secret == "" || !strings.HasPrefix(rat, RegistrationAccessTokenPrefix) || !cl.Registered ||
		!bytes.Equal(cl.RegistrationTokenDigest, f.hasher.Digest([]byte(rat))) || bytes.Contains(cl.RegistrationTokenDigest, []byte(rat)) {
		t.Fatalf("registered %+v, secret %q, token %q", cl, secret, rat)
	}
	if lines, _ := f.audit(t); !slices.Equal(lines, []string{"client.registered " + cl.ID}) {
		t.Errorf("audit: %v", lines)
	}
	got, err := f.reg.Registration(ctx, cl.ID, rat)
	if err != nil || got.ID != cl.ID || string(got.RegistrationMetadata) != string(meta) {
		t.Fatalf("Registration: %+v, %v", got, err)
	}
	admin, _ := f.mustCreate(t, Params{Name: "svc"})
	for name, try := range map[string][2]string{
		"wrong token":    {cl.ID, rat + "x"},
		"empty token":    {cl.ID, ""},
		"unknown client": {"nope", rat},
		"admin's client": {admin.ID, rat},
	} {
		if _, err := f.reg.Registration(ctx, try[0], try[1]); !errors.Is(err, ErrSecretMismatch) {
			t.Errorf("%s: %v, want ErrSecretMismatch", name, err)
		}
	}
	updated, err := f.reg.UpdateRegistration(ctx, cl.ID, Params{Name: "renamed", RedirectURIs: []string{"https://app.example/cb"}}, nil)
	if err != nil || updated.Name != "renamed" || updated.RegistrationMetadata != nil || !updated.Registered {
		t.Fatalf("UpdateRegistration: %+v, %v", updated, err)
	}
	if _, err := f.reg.Registration(ctx, cl.ID, rat); err != nil {
		t.Fatalf("the token after an update: %v", err)
	}
	bs.down.Store(true)
	if _, err := f.reg.Registration(ctx, cl.ID, rat); err == nil || errors.Is(err, ErrSecretMismatch) {
		t.Fatalf("outage: %v, want the store's error", err)
	}
}

// TestInitialTokens: a token is kwreg_<id>_<secret>, stored as a keyed
// digest; Use counts it until its uses are spent, and refuses a malformed,
// wrong, expired or revoked one with ErrSecretMismatch; changes are
// audited; the view tells the state.
func TestInitialTokens(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	clock := newTestClock()
	h := NewHasher(testSecret(3))
	it, err := NewInitialTokens(InitialTokensConfig{Store: db, Hasher: h, NewID: seqIDs("rt"),
		Auditor: &store.Auditor{Store: db, NewID: seqIDs("ev"), Now: clock.Now}, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, _, err := it.Create(ctx, -time.Second, 0); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("negative ttl: %v", err)
	}
	tok, secret, err := it.Create(ctx, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, InitialTokenPrefix+tok.ID+"_") || !tok.ExpiresAt.Equal(clock.Now().Add(DefaultInitialTokenTTL)) ||
		!bytes.Equal(tok.Digest, h.Digest([]byte(secret))) {
		t.Fatalf("created %+v, %q", tok, secret)
	}
	for _, bad := range []string{"", "kwreg_", "kwreg_" + tok.ID, "kwreg_nope_x", secret + "x", strings.TrimPrefix(secret, "kwreg_")} {
		if _, err := it.Use(ctx, bad); !errors.Is(err, ErrSecretMismatch) {
			t.Errorf("Use(%q): %v, want ErrSecretMismatch", bad, err)
		}
	}
	for i := range 2 {
		if id, err := it.Use(ctx, secret); err != nil || id != tok.ID {
			t.Fatalf("use %d: %q, %v", i+1, id, err)
		}
	}
	if _, err := it.Use(ctx, secret); !errors.Is(err, ErrSecretMismatch) {
		t.Errorf("third use of a 2-use token: %v", err)
	}
	got, _ := it.Get(ctx, tok.ID)
	if v := NewInitialTokenView(got, "", clock.Now()); v.State != "used_up" || v.Uses != 2 || v.Token != "" {
		t.Errorf("view: %+v", v)
	}

	tok2, secret2, err := it.Create(ctx, time.Hour, 0)
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Hour)
	if _, err := it.Use(ctx, secret2); !errors.Is(err, ErrSecretMismatch) {
		t.Errorf("expired: %v", err)
	}
	if v := NewInitialTokenView(tok2, "", clock.Now()); v.State != "expired" {
		t.Errorf("expired view: %+v", v)
	}
	_, secret3, _ := it.Create(ctx, time.Hour, 0)
	tok3ID := strings.SplitN(strings.TrimPrefix(secret3, InitialTokenPrefix), "_", 2)[0]
	revoked, err := it.Revoke(ctx, tok3ID)
	if err != nil || NewInitialTokenView(revoked, "", clock.Now()).State != "revoked" {
		t.Fatalf("revoke: %+v, %v", revoked, err)
	}
	if _, err := it.Use(ctx, secret3); !errors.Is(err, ErrSecretMismatch) {
		t.Errorf("revoked: %v", err)
	}
	if _, err := it.Revoke(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoke unknown: %v", err)
	}
	evs, _, _ := db.ListAudit(ctx, store.AuditFilter{Type: "registration_token.*"}, store.Page{Limit: 10})
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	want := []string{"registration_token.created", "registration_token.created", "registration_token.created", "registration_token.revoked"}
	if !slices.Equal(types, want) {
		t.Errorf("audit: %v, want %v", types, want)
	}
}
