package clients

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/sqlite"
)

// registryFixture is a Registry over a real SQLite store that records
// its OnChange calls.
type registryFixture struct {
	db     *sqlite.DB
	reg    *Registry
	hasher *Hasher

	mu      sync.Mutex
	changes []string
}

// newRegistry returns a fixture; change may adjust the config (its Store
// is the real database).
func newRegistry(t *testing.T, change func(*Config)) *registryFixture {
	t.Helper()
	f := &registryFixture{db: newDB(t), hasher: NewHasher(testSecret(9))}
	clock := newTestClock()
	cfg := Config{
		Store: f.db, Hasher: f.hasher, NewID: seqIDs("c"),
		Auditor: &store.Auditor{Store: f.db, NewID: seqIDs("ev"), Now: clock.Now},
		OnChange: func(_ context.Context, id string) {
			f.mu.Lock()
			f.changes = append(f.changes, id)
			f.mu.Unlock()
		},
	}
	if change != nil {
		change(&cfg)
	}
	reg, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.reg = reg
	return f
}

func (f *registryFixture) changed() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.changes)
}

// audit returns the recorded events as "type subject" lines.
func (f *registryFixture) audit(t *testing.T) ([]string, []*store.AuditEvent) {
	t.Helper()
	evs, _, err := f.db.ListAudit(context.Background(), store.AuditFilter{}, store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range evs {
		lines = append(lines, e.Type+" "+e.Subject)
	}
	return lines, evs
}

// mustCreate creates a confidential service client.
func (f *registryFixture) mustCreate(t *testing.T, p Params) (*store.Client, string) {
	t.Helper()
	cl, secret, err := f.reg.Create(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return cl, secret
}

// brokenReader fails every read.
type brokenReader struct{}

func (brokenReader) Read([]byte) (int, error) { return 0, errors.New("entropy exhausted") }

// unwritableClients is the real store with client updates that fail.
type unwritableClients struct{ store.ClientStore }

func (unwritableClients) UpdateClient(context.Context, *store.Client) error { return errDown }

func TestNew(t *testing.T) {
	t.Parallel()
	db, h, id := newDB(t), NewHasher(testSecret(1)), seqIDs("c")
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"complete", Config{Store: db, Hasher: h, NewID: id}, false},
		{"no store", Config{Hasher: h, NewID: id}, true},
		{"no hasher", Config{Store: db, NewID: id}, true},
		{"no id generator", Config{Store: db, Hasher: h}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := New(tt.cfg)
			if (err != nil) != tt.wantErr || (r == nil) != tt.wantErr {
				t.Errorf("New = %v, %v; want error %v", r, err, tt.wantErr)
			}
		})
	}
}

func TestRegistryCreateConfidential(t *testing.T) {
	t.Parallel()
	random := bytes.Repeat([]byte{7}, SecretBytes)
	f := newRegistry(t, func(c *Config) { c.Rand = bytes.NewReader(random) })
	ctx := store.WithActor(context.Background(), "cli")

	cl, secret, err := f.reg.Create(ctx, Params{Name: "billing", Scopes: []string{"read", "write", "read"},
		Audience: []string{"https://api.example"}, PKCEOptional: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := base64.RawURLEncoding.EncodeToString(random); secret != want {
		t.Errorf("secret = %q; want the %d bytes of Rand, base64url: %q", secret, SecretBytes, want)
	}
	stored, err := f.db.GetClient(ctx, cl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cl.ID != "c-0001" || stored.Name != "billing" || stored.Public ||
		!slices.Equal(stored.GrantTypes, []string{GrantClientCredentials}) ||
		!slices.Equal(stored.Scopes, []string{"read", "write"}) ||
		!slices.Equal(stored.Audience, []string{"https://api.example"}) || stored.AccessTokenFormat != "jwt" ||
		!stored.PKCEOptional || stored.Disabled {
		t.Errorf("stored client %+v; want id c-0001, the defaults applied and scopes deduplicated", stored)
	}
	if bytes.Contains(stored.SecretDigest, []byte(secret)) {
		t.Error("the secret itself was stored")
	}
	if err := f.hasher.Compare(ctx, stored.SecretDigest, []byte(secret)); err != nil {
		t.Errorf("the stored digest does not verify the returned secret: %v", err)
	}
	if got := f.changed(); !slices.Equal(got, []string{cl.ID}) {
		t.Errorf("OnChange calls %q; want [%s]", got, cl.ID)
	}
	lines, evs := f.audit(t)
	if !slices.Equal(lines, []string{"client.created c-0001"}) {
		t.Fatalf("audit %q; want one client.created", lines)
	}
	var data map[string]any
	if err := json.Unmarshal(evs[0].Data, &data); err != nil {
		t.Fatal(err)
	}
	if evs[0].Actor != "cli" || data["name"] != "billing" || data["scope"] != "read write" {
		t.Errorf("audit event actor %q data %s; want actor cli, name and scope", evs[0].Actor, evs[0].Data)
	}
	if strings.Contains(string(evs[0].Data), secret) {
		t.Error("the audit event holds the secret")
	}
}

func TestRegistryCreatePublic(t *testing.T) {
	t.Parallel()
	f := newRegistry(t, nil)
	ctx := context.Background()
	cl, secret, err := f.reg.Create(ctx, Params{Name: "spa", Public: true, RedirectURIs: []string{"https://spa.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := f.db.GetClient(ctx, cl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" || len(stored.SecretDigest) != 0 || !stored.Public {
		t.Errorf("public client: secret %q, digest %x; want neither", secret, stored.SecretDigest)
	}
	if !slices.Equal(stored.GrantTypes, []string{GrantAuthorizationCode, GrantRefreshToken}) {
		t.Errorf("grant types %q; want the code flow with refresh", stored.GrantTypes)
	}
	if err := f.hasher.Compare(ctx, stored.SecretDigest, nil); err == nil {
		t.Error("a public client's empty digest matched an empty secret")
	}
}

// TestRegistryCreateSecretsAreRandom: with the default source two clients
// never share a secret, and each carries SecretBytes of entropy.
func TestRegistryCreateSecretsAreRandom(t *testing.T) {
	t.Parallel()
	f := newRegistry(t, nil)
	_, s1 := f.mustCreate(t, Params{Name: "a"})
	_, s2 := f.mustCreate(t, Params{Name: "b"})
	for _, s := range []string{s1, s2} {
		if b, err := base64.RawURLEncoding.DecodeString(s); err != nil || len(b) != SecretBytes {
			t.Errorf("secret %q: %d bytes, %v; want %d base64url bytes", s, len(b), err, SecretBytes)
		}
	}
	if s1 == s2 {
		t.Error("two clients got the same secret")
	}
}

func TestRegistryCreateRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		config  func(*Config)
		params  Params
		wantErr error
		wantMsg string
	}{
		{name: "invalid settings", params: Params{Name: "", RedirectURIs: []string{"http://evil.example/cb"}},
			wantErr: store.ErrInvalid},
		{name: "taken id", config: func(c *Config) { c.NewID = func() string { return "existing" } },
			params: Params{Name: "dup"}, wantErr: store.ErrConflict},
		{name: "no randomness", config: func(c *Config) { c.Rand = brokenReader{} },
			params: Params{Name: "svc"}, wantMsg: "read random"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newRegistry(t, tt.config)
			ctx := context.Background()
			if err := f.db.CreateClient(ctx, &store.Client{ID: "existing", Name: "existing"}); err != nil {
				t.Fatal(err)
			}
			cl, secret, err := f.reg.Create(ctx, tt.params)
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) ||
				(tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg)) {
				t.Fatalf("Create = %v; want %v %q", err, tt.wantErr, tt.wantMsg)
			}
			if cl != nil || secret != "" {
				t.Errorf("refused Create returned %v and secret %q", cl, secret)
			}
			all, _, err := f.db.ListClients(ctx, store.Page{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 1 || all[0].Name != "existing" {
				t.Errorf("store holds %d clients after a refused Create; want only the existing one", len(all))
			}
			if lines, _ := f.audit(t); len(lines) != 0 || len(f.changed()) != 0 {
				t.Errorf("refused Create audited %q and announced %q", lines, f.changed())
			}
		})
	}
}

func TestRegistryRotateSecret(t *testing.T) {
	t.Parallel()
	f := newRegistry(t, nil)
	ctx := context.Background()
	cl, old := f.mustCreate(t, Params{Name: "svc"})

	rotated, secret, err := f.reg.RotateSecret(ctx, cl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if secret == "" || secret == old || rotated.ID != cl.ID {
		t.Fatalf("RotateSecret returned client %q secret %q (old %q)", rotated.ID, secret, old)
	}
	stored, err := f.db.GetClient(ctx, cl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.hasher.Compare(ctx, stored.SecretDigest, []byte(secret)); err != nil {
		t.Errorf("the new secret does not verify: %v", err)
	}
	if err := f.hasher.Compare(ctx, stored.SecretDigest, []byte(old)); !errors.Is(err, ErrSecretMismatch) {
		t.Errorf("the old secret still verifies: %v", err)
	}
	if got := f.changed(); !slices.Equal(got, []string{cl.ID, cl.ID}) {
		t.Errorf("OnChange calls %q; want creation and rotation", got)
	}
	if lines, _ := f.audit(t); !slices.Equal(lines, []string{"client.created c-0001", "client.secret_rotated c-0001"}) {
		t.Errorf("audit %q", lines)
	}
}

func TestRegistryRotateSecretRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// id is "confidential", "public" or another (unknown) id.
		id      string
		config  func(*Config)
		wantErr error
		wantMsg string
	}{
		{name: "unknown client", id: "nope", wantErr: store.ErrNotFound},
		{name: "public client", id: "public", wantErr: store.ErrInvalid},
		{name: "store write fails", id: "confidential",
			config: func(c *Config) { c.Store = unwritableClients{c.Store} }, wantErr: errDown},
		{name: "no randomness", id: "confidential",
			// Enough for the creation below, then nothing.
			config: func(c *Config) {
				c.Rand = io.MultiReader(bytes.NewReader(make([]byte, SecretBytes)), brokenReader{})
			}, wantMsg: "read random"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newRegistry(t, tt.config)
			ctx := context.Background()
			conf, secret := f.mustCreate(t, Params{Name: "svc"})
			pub, _ := f.mustCreate(t, Params{Name: "spa", Public: true, RedirectURIs: []string{"https://spa.example/cb"}})
			id := map[string]string{"confidential": conf.ID, "public": pub.ID}[tt.id]
			if id == "" {
				id = tt.id
			}
			_, got, err := f.reg.RotateSecret(ctx, id)
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) ||
				(tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg)) {
				t.Fatalf("RotateSecret = %v; want %v %q", err, tt.wantErr, tt.wantMsg)
			}
			if got != "" {
				t.Errorf("refused rotation returned secret %q", got)
			}
			stored, err := f.db.GetClient(ctx, conf.ID)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.hasher.Compare(ctx, stored.SecretDigest, []byte(secret)); err != nil {
				t.Errorf("after a refused rotation the old secret no longer verifies: %v", err)
			}
			if n := len(f.changed()); n != 2 {
				t.Errorf("%d OnChange calls; want only the 2 creations", n)
			}
			if lines, _ := f.audit(t); len(lines) != 2 {
				t.Errorf("audit %q; want only the 2 creations", lines)
			}
		})
	}
}

func TestRegistryUpdate(t *testing.T) {
	t.Parallel()
	f := newRegistry(t, nil)
	ctx := context.Background()
	cl, secret := f.mustCreate(t, Params{Name: "svc"})
	before, err := f.db.GetClient(ctx, cl.ID)
	if err != nil {
		t.Fatal(err)
	}

	if _, err := f.reg.SetDisabled(ctx, cl.ID, true); err != nil {
		t.Fatal(err)
	}
	p := Params{Name: "svc v2", RedirectURIs: []string{"https://app.example/cb"},
		PostLogoutRedirectURIs: []string{"https://app.example/bye"}, Scopes: []string{"openid"},
		Audience: []string{"api"}, SkipConsent: true, AccessTokenFormat: "opaque", IDTokenAlg: "ES256", PKCEOptional: true}
	updated, err := f.reg.Update(ctx, cl.ID, p)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := f.db.GetClient(ctx, cl.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*store.Client{updated, stored} {
		if c.Name != "svc v2" || !slices.Equal(c.GrantTypes, []string{GrantAuthorizationCode, GrantRefreshToken}) ||
			!slices.Equal(c.RedirectURIs, p.RedirectURIs) || !slices.Equal(c.PostLogoutRedirectURIs, p.PostLogoutRedirectURIs) ||
			!slices.Equal(c.Scopes, p.Scopes) || !slices.Equal(c.Audience, p.Audience) || !c.SkipConsent ||
			c.AccessTokenFormat != "opaque" || c.IDTokenAlg != "ES256" || !c.PKCEOptional {
			t.Errorf("client after Update %+v; want every setting replaced (grant types from the defaults)", c)
		}
		if !c.Disabled {
			t.Error("Update enabled a disabled client")
		}
	}
	if !stored.CreatedAt.Equal(before.CreatedAt) {
		t.Errorf("CreatedAt changed from %v to %v", before.CreatedAt, stored.CreatedAt)
	}
	if err := f.hasher.Compare(ctx, stored.SecretDigest, []byte(secret)); err != nil {
		t.Errorf("Update changed the secret: %v", err)
	}
	if got := f.changed(); !slices.Equal(got, []string{cl.ID, cl.ID, cl.ID}) {
		t.Errorf("OnChange calls %q; want creation, disabling and update", got)
	}
	lines, evs := f.audit(t)
	if !slices.Equal(lines, []string{"client.created c-0001", "client.disabled c-0001", "client.updated c-0001"}) ||
		!strings.Contains(string(evs[2].Data), `"svc v2"`) {
		t.Errorf("audit %q, last data %s", lines, evs[len(evs)-1].Data)
	}
}

func TestRegistryUpdateRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		id      string // "" is the created client
		config  func(*Config)
		params  Params
		wantErr error
		wantMsg string
	}{
		{name: "unknown client", id: "nope", params: Params{Name: "x"}, wantErr: store.ErrNotFound},
		{name: "made public", params: Params{Name: "x", Public: true, RedirectURIs: []string{"https://a.example/cb"}},
			wantErr: store.ErrInvalid, wantMsg: "public cannot be changed"},
		{name: "invalid settings", params: Params{Name: "x", Scopes: []string{"a b"}},
			wantErr: store.ErrInvalid, wantMsg: `scope "a b"`},
		{name: "store write fails", config: func(c *Config) { c.Store = unwritableClients{c.Store} },
			params: Params{Name: "x"}, wantErr: errDown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newRegistry(t, tt.config)
			ctx := context.Background()
			cl, _ := f.mustCreate(t, Params{Name: "original"})
			id := tt.id
			if id == "" {
				id = cl.ID
			}
			got, err := f.reg.Update(ctx, id, tt.params)
			if !errors.Is(err, tt.wantErr) || (tt.wantMsg != "" && !strings.Contains(err.Error(), tt.wantMsg)) {
				t.Fatalf("Update = %v; want %v %q", err, tt.wantErr, tt.wantMsg)
			}
			if got != nil {
				t.Errorf("refused Update returned %+v", got)
			}
			stored, err := f.db.GetClient(ctx, cl.ID)
			if err != nil {
				t.Fatal(err)
			}
			if stored.Name != "original" {
				t.Errorf("refused Update changed the name to %q", stored.Name)
			}
			if n := len(f.changed()); n != 1 {
				t.Errorf("%d OnChange calls; want only the creation", n)
			}
			if lines, _ := f.audit(t); len(lines) != 1 {
				t.Errorf("audit %q; want only the creation", lines)
			}
		})
	}
}

func TestRegistrySetDisabled(t *testing.T) {
	t.Parallel()
	f := newRegistry(t, nil)
	ctx := context.Background()
	cl, secret := f.mustCreate(t, Params{Name: "svc"})
	steps := []struct {
		disabled  bool
		wantAudit string
	}{
		{true, "client.disabled c-0001"},
		{false, "client.enabled c-0001"},
	}
	for _, s := range steps {
		got, err := f.reg.SetDisabled(ctx, cl.ID, s.disabled)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := f.db.GetClient(ctx, cl.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Disabled != s.disabled || stored.Disabled != s.disabled {
			t.Errorf("SetDisabled(%v): returned %v, stored %v", s.disabled, got.Disabled, stored.Disabled)
		}
		if stored.Name != "svc" || f.hasher.Compare(ctx, stored.SecretDigest, []byte(secret)) != nil {
			t.Errorf("SetDisabled(%v) changed other settings: %+v", s.disabled, stored)
		}
		if lines, _ := f.audit(t); lines[len(lines)-1] != s.wantAudit {
			t.Errorf("SetDisabled(%v): audit %q; want %q last", s.disabled, lines, s.wantAudit)
		}
	}
	if got := f.changed(); !slices.Equal(got, []string{cl.ID, cl.ID, cl.ID}) {
		t.Errorf("OnChange calls %q; want creation, disabling and enabling", got)
	}
}

func TestRegistrySetDisabledRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		id      string // "" is the created client
		config  func(*Config)
		wantErr error
	}{
		{name: "unknown client", id: "nope", wantErr: store.ErrNotFound},
		{name: "store write fails", config: func(c *Config) { c.Store = unwritableClients{c.Store} }, wantErr: errDown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newRegistry(t, tt.config)
			ctx := context.Background()
			cl, _ := f.mustCreate(t, Params{Name: "svc"})
			id := tt.id
			if id == "" {
				id = cl.ID
			}
			if got, err := f.reg.SetDisabled(ctx, id, true); !errors.Is(err, tt.wantErr) || got != nil {
				t.Fatalf("SetDisabled = %v, %v; want %v", got, err, tt.wantErr)
			}
			stored, err := f.db.GetClient(ctx, cl.ID)
			if err != nil {
				t.Fatal(err)
			}
			if stored.Disabled {
				t.Error("a refused SetDisabled disabled the client")
			}
			if n := len(f.changed()); n != 1 {
				t.Errorf("%d OnChange calls; want only the creation", n)
			}
			if lines, _ := f.audit(t); len(lines) != 1 {
				t.Errorf("audit %q; want only the creation", lines)
			}
		})
	}
}

func TestRegistryDelete(t *testing.T) {
	t.Parallel()
	f := newRegistry(t, nil)
	ctx := context.Background()
	cl, _ := f.mustCreate(t, Params{Name: "svc"})

	if err := f.reg.Delete(ctx, cl.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.GetClient(ctx, cl.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetClient after Delete: %v; want ErrNotFound", err)
	}
	if err := f.reg.Delete(ctx, cl.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second Delete = %v; want ErrNotFound", err)
	}
	if got := f.changed(); !slices.Equal(got, []string{cl.ID, cl.ID}) {
		t.Errorf("OnChange calls %q; want creation and one deletion", got)
	}
	if lines, _ := f.audit(t); !slices.Equal(lines, []string{"client.created c-0001", "client.deleted c-0001"}) {
		t.Errorf("audit %q; want creation and one deletion", lines)
	}
}

// TestRegistryWithoutHooks: Auditor and OnChange are optional.
func TestRegistryWithoutHooks(t *testing.T) {
	t.Parallel()
	f := newRegistry(t, func(c *Config) { c.Auditor, c.OnChange = nil, nil })
	ctx := context.Background()
	cl, _ := f.mustCreate(t, Params{Name: "svc"})
	if _, _, err := f.reg.RotateSecret(ctx, cl.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.reg.Update(ctx, cl.ID, Params{Name: "svc2"}); err != nil {
		t.Fatal(err)
	}
	if err := f.reg.Delete(ctx, cl.ID); err != nil {
		t.Fatal(err)
	}
	if lines, _ := f.audit(t); len(lines) != 0 {
		t.Errorf("audit %q without an Auditor", lines)
	}
}
