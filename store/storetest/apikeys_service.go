package storetest

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/clocktest"
	"github.com/keyward/keyward/store"
)

// countingStore counts the calls that reach the store under test.
type countingStore struct {
	keys.Store
	calls atomic.Int64
}

func (c *countingStore) GetAPIKey(ctx context.Context, id string) (*keys.APIKey, error) {
	c.calls.Add(1)
	return c.Store.GetAPIKey(ctx, id)
}

func (c *countingStore) RecordAPIKeyUsage(ctx context.Context, u []keys.Usage) error {
	c.calls.Add(1)
	return c.Store.RecordAPIKeyUsage(ctx, u)
}

type serviceFixture struct {
	svc   *keys.Service
	store *countingStore
	// clock is injected and starts at the real time, so that the store's
	// own clock (used for created_at and pruning) agrees with it.
	clock *clocktest.Clock
}

func newService(t *testing.T, s keys.Store) *serviceFixture {
	t.Helper()
	f := &serviceFixture{store: &countingStore{Store: s}, clock: clocktest.At(time.Now().UTC())}
	cfg := keys.Config{Store: f.store, Secret: keys.Secret(bytes.Repeat([]byte("k"), 32)), Now: f.clock.Now}
	if ev, ok := s.(keys.Events); ok {
		cfg.Events = ev
	}
	svc, err := keys.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	f.svc = svc
	return f
}

func (f *serviceFixture) create(t *testing.T, p keys.CreateParams) (*keys.APIKey, string) {
	t.Helper()
	if p.Name == "" {
		p.Name = "test key"
	}
	k, raw, err := f.svc.Create(ctx(), p)
	if err != nil {
		t.Fatal(err)
	}
	return k, raw
}

func (f *serviceFixture) expect(t *testing.T, raw, scope string, want keys.Code) keys.Result {
	t.Helper()
	r, err := f.svc.Verify(ctx(), raw, scope)
	if err != nil {
		t.Fatal(err)
	}
	if r.Code != want || r.Valid != (want == keys.CodeValid) {
		t.Fatalf("Verify(%s) = %s (valid %v), want %s", scope, r.Code, r.Valid, want)
	}
	return r
}

func testAPIKeyServiceLifecycle(t *testing.T, s keys.Store) {
	f := newService(t, s)
	k, raw := f.create(t, keys.CreateParams{Name: "ci", Scopes: []string{"read"},
		OwnerType: keys.OwnerClient, OwnerID: "c1", Metadata: map[string]string{"env": "ci"}})
	stored, err := f.svc.Get(ctx(), k.ID)
	if err != nil || stored.Name != "ci" || stored.OwnerID != "c1" || len(stored.Secrets) != 1 {
		t.Fatalf("Get: %+v, %v", stored, err)
	}
	r := f.expect(t, raw, "read", keys.CodeValid)
	if r.Key.ID != k.ID {
		t.Fatalf("verified key %s, want %s", r.Key.ID, k.ID)
	}
	if err := f.svc.Disable(ctx(), k.ID); err != nil {
		t.Fatal(err)
	}
	f.expect(t, raw, "", keys.CodeRevoked)
	if err := f.svc.Enable(ctx(), k.ID); err != nil {
		t.Fatal(err)
	}
	f.expect(t, raw, "", keys.CodeValid)
	if err := f.svc.Revoke(ctx(), k.ID); err != nil {
		t.Fatal(err)
	}
	f.expect(t, raw, "", keys.CodeRevoked)
	if err := f.svc.Delete(ctx(), k.ID); err != nil {
		t.Fatal(err)
	}
	f.expect(t, raw, "", keys.CodeNotFound)
}

func testAPIKeyServiceRoll(t *testing.T, s keys.Store) {
	f := newService(t, s)
	k, old := f.create(t, keys.CreateParams{})
	f.expect(t, old, "", keys.CodeValid)
	rolled, fresh, err := f.svc.Roll(ctx(), k.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if rolled.ID != k.ID || fresh == old || fresh[:len(k.Prefix())] != k.Prefix() {
		t.Fatalf("roll gave %q for %s", fresh, k.ID)
	}
	f.expect(t, fresh, "", keys.CodeValid)
	f.expect(t, old, "", keys.CodeValid)
	f.clock.Add(time.Hour)
	f.expect(t, old, "", keys.CodeRevoked)
	f.expect(t, fresh, "", keys.CodeValid)

	_, newer, err := f.svc.Roll(ctx(), k.ID, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Revoke(ctx(), k.ID); err != nil {
		t.Fatal(err)
	}
	f.expect(t, fresh, "", keys.CodeRevoked) // was in grace
	f.expect(t, newer, "", keys.CodeRevoked)
	if _, _, err := f.svc.Roll(ctx(), k.ID, 0); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("roll of a revoked key: %v", err)
	}
}

func testAPIKeyServiceExpiryScope(t *testing.T, s keys.Store) {
	f := newService(t, s)
	_, raw := f.create(t, keys.CreateParams{Scopes: []string{"read", "write"}, ExpiresIn: time.Minute})
	f.expect(t, raw, "read write", keys.CodeValid)
	f.expect(t, raw, "admin", keys.CodeInsufficientScope)
	f.clock.Add(time.Minute)
	r := f.expect(t, raw, "read", keys.CodeExpired)
	if b, err := r.MarshalJSON(); err != nil || !bytes.Contains(b, []byte(`"scope":"read write"`)) {
		t.Fatalf("JSON %s, %v", b, err)
	}
}

func testAPIKeyServiceRateLimit(t *testing.T, s keys.Store) {
	f := newService(t, s)
	_, raw := f.create(t, keys.CreateParams{RateLimit: keys.RateLimit{Limit: 2, Period: time.Minute}})
	for want := 1; want >= 0; want-- {
		if r := f.expect(t, raw, "", keys.CodeValid); r.RateLimit.Remaining != want {
			t.Fatalf("remaining %d, want %d", r.RateLimit.Remaining, want)
		}
	}
	r := f.expect(t, raw, "", keys.CodeRateLimited)
	if r.RateLimit.Remaining != 0 || !r.RateLimit.Reset.After(f.clock.Now()) {
		t.Fatalf("limited: %+v", r.RateLimit)
	}
	f.clock.Add(time.Minute)
	f.expect(t, raw, "", keys.CodeValid)
}

func testAPIKeyServiceBadInputs(t *testing.T, s keys.Store) {
	f := newService(t, s)
	_, raw := f.create(t, keys.CreateParams{})
	f.expect(t, raw, "", keys.CodeValid)
	before := f.store.calls.Load()
	other := "kw_test_" + raw[len("kw_live_"):]
	for _, bad := range []string{
		"", "kw_live_", raw[:len(raw)-1], raw + "0", string(bytes.Repeat([]byte(raw), 200)),
		"kw_prod_" + raw[len("kw_live_"):], raw[:len(raw)-1] + "!", other,
		"kw_live_" + "\u0430" + raw[len("kw_live_")+2:], // Cyrillic a, same byte length
	} {
		f.expect(t, bad, "", keys.CodeNotFound)
	}
	if n := f.store.calls.Load() - before; n != 0 {
		t.Fatalf("%d store calls for malformed keys", n)
	}
	f.expect(t, raw, "", keys.CodeValid)
	if n := f.store.calls.Load() - before; n != 0 {
		t.Fatalf("%d store calls for a cached key", n)
	}
}

func testAPIKeyServiceUsage(t *testing.T, s keys.Store) {
	f := newService(t, s)
	k, raw := f.create(t, keys.CreateParams{})
	for range 5 {
		f.expect(t, raw, "", keys.CodeValid)
	}
	if _, err := f.svc.Inspect(ctx(), raw); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Flush(ctx()); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.Get(ctx(), k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.UsageCount != 5 || !got.LastUsedAt.Equal(f.clock.Now().Truncate(time.Microsecond)) {
		t.Fatalf("usage %d, last used %v (now %v)", got.UsageCount, got.LastUsedAt, f.clock.Now())
	}
}
