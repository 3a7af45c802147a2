package keys

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
)

func TestConfigValidate(t *testing.T) {
	err := Config{Env: "prod", Secret: Secret("short"), CacheTTL: -1}.Validate()
	for _, want := range []string{"Store", "Secret", "Env", "CacheTTL"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v; want it to mention %s", err, want)
		}
	}
	if err := (Config{Store: newMemStore(), Secret: testSecretKey}).Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

func TestCreateAndVerify(t *testing.T) {
	f := newFixture(t, nil)
	k, raw := f.create(t, CreateParams{Name: "ci", Scopes: []string{"read", "write", "read"},
		Metadata: map[string]string{"team": "core"}, ExpiresIn: time.Hour})
	if !strings.HasPrefix(raw, "kw_live_"+k.ID+"_") || len(raw) != KeyLen {
		t.Fatalf("key %q for id %s", raw, k.ID)
	}
	if strings.Join(k.Scopes, " ") != "read write" || !k.ExpiresAt.Equal(f.clock.Now().Add(time.Hour)) {
		t.Fatalf("record: %+v", k)
	}
	if k.Prefix() != "kw_live_"+k.ID || !strings.HasSuffix(k.Hint, raw[KeyLen-4:]) {
		t.Fatalf("prefix %q hint %q", k.Prefix(), k.Hint)
	}
	r := f.verify(t, raw, "read")
	wantCode(t, r, CodeValid)
	if r.Key.ID != k.ID || r.RateLimit != nil {
		t.Fatalf("result %+v", r)
	}
	wantCode(t, f.verify(t, raw, "read write"), CodeValid)
	wantCode(t, f.verify(t, raw, "admin"), CodeInsufficientScope)
	wantCode(t, f.verify(t, raw, "read admin"), CodeInsufficientScope)
	if got := f.audit.types(); len(got) != 1 || got[0] != EventCreated {
		t.Fatalf("audit %v", got)
	}
	if strings.Contains(f.logs.String(), raw) {
		t.Fatal("key in logs")
	}
}

func TestCreateInvalid(t *testing.T) {
	f := newFixture(t, nil)
	for _, p := range []CreateParams{
		{},
		{Name: "x\n"},
		{Name: "x", Scopes: []string{"a b"}},
		{Name: "x", Scopes: []string{""}},
		{Name: "x", OwnerType: "group", OwnerID: "g"},
		{Name: "x", OwnerType: OwnerUser},
		{Name: "x", OwnerID: "u1"},
		{Name: "x", ExpiresIn: -time.Second},
		{Name: "x", ExpiresIn: time.Second, ExpiresAt: time.Now()},
		{Name: "x", RateLimit: RateLimit{Limit: 5}},
		{Name: "x", RateLimit: RateLimit{Limit: -1, Period: time.Second}},
		{Name: "x", Metadata: map[string]string{"": "v"}},
	} {
		if _, _, err := f.svc.Create(context.Background(), p); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Create(%+v) = %v, want store.ErrInvalid", p, err)
		}
	}
}

func TestVerifyBadInputsNeverReachTheStore(t *testing.T) {
	f := newFixture(t, nil)
	_, raw := f.create(t, CreateParams{})
	testKey := format(EnvTest, raw[idStart:secStart-1], raw[secStart:sumStart])
	before := f.store.calls.Load()
	for _, s := range []string{
		"", "kw_live_", raw[:KeyLen-1], raw + "x", strings.Repeat("k", 10<<10),
		"kx" + raw[2:], raw[:KeyLen-1] + "!", strings.Replace(raw, raw[idStart:idStart+1], "а", 1),
		testKey, // the other env
	} {
		wantCode(t, f.verify(t, s, ""), CodeNotFound)
		r, _ := f.svc.Inspect(context.Background(), s)
		wantCode(t, r, CodeNotFound)
	}
	if n := f.store.calls.Load() - before; n != 0 {
		t.Fatalf("%d store calls for malformed keys", n)
	}
}

func TestVerifyWrongSecretAndUnknownID(t *testing.T) {
	f := newFixture(t, nil)
	k, raw := f.create(t, CreateParams{})
	forged := format(EnvLive, k.ID, strings.Repeat("A", SecretLen))
	r := f.verify(t, forged, "")
	wantCode(t, r, CodeNotFound)
	if r.Key != nil {
		t.Fatal("a wrong secret revealed the key")
	}
	unknown := format(EnvLive, strings.Repeat("Z", IDLen), strings.Repeat("A", SecretLen))
	before := f.store.calls.Load()
	wantCode(t, f.verify(t, unknown, ""), CodeNotFound)
	wantCode(t, f.verify(t, unknown, ""), CodeNotFound)
	if n := f.store.calls.Load() - before; n != 1 {
		t.Fatalf("%d store calls for an unknown id twice, want 1 (negative cache)", n)
	}
	wantCode(t, f.verify(t, raw, ""), CodeValid)
}

func TestCachedVerifyMakesNoStoreCall(t *testing.T) {
	f := newFixture(t, nil)
	_, raw := f.create(t, CreateParams{RateLimit: RateLimit{Limit: 1000, Period: time.Minute}})
	f.verify(t, raw, "")
	before := f.store.calls.Load()
	for range 100 {
		wantCode(t, f.verify(t, raw, ""), CodeValid)
	}
	if n := f.store.calls.Load() - before; n != 0 {
		t.Fatalf("%d store calls on cached verifies", n)
	}
	f.clock.Add(DefaultCacheTTL)
	f.verify(t, raw, "")
	if n := f.store.calls.Load() - before; n != 1 {
		t.Fatalf("after the TTL: %d store calls, want 1", n)
	}
}

func TestExpiry(t *testing.T) {
	f := newFixture(t, nil)
	_, raw := f.create(t, CreateParams{ExpiresIn: time.Minute})
	wantCode(t, f.verify(t, raw, ""), CodeValid)
	f.clock.Add(time.Minute)
	wantCode(t, f.verify(t, raw, ""), CodeExpired)
}

func TestRevokeDisableEnable(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	k, raw := f.create(t, CreateParams{})
	wantCode(t, f.verify(t, raw, ""), CodeValid)
	if err := f.svc.Disable(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.verify(t, raw, ""), CodeRevoked)
	if err := f.svc.Enable(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.verify(t, raw, ""), CodeValid)
	if err := f.svc.Revoke(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	r := f.verify(t, raw, "")
	wantCode(t, r, CodeRevoked)
	if r.Key == nil || r.Key.RevokedAt.IsZero() {
		t.Fatalf("revoked result %+v", r)
	}
	if _, _, err := f.svc.Roll(ctx, k.ID, time.Hour); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Roll of a revoked key: %v, want store.ErrConflict", err)
	}
	for _, err := range []error{f.svc.Revoke(ctx, "nope"), f.svc.Disable(ctx, "nope"), f.svc.Delete(ctx, "nope")} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("on a missing key: %v, want store.ErrNotFound", err)
		}
	}
	want := []string{EventCreated, EventDisabled, EventEnabled, EventRevoked}
	if got := f.audit.types(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("audit %v, want %v", got, want)
	}
}

func TestRollWithGrace(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	k, old := f.create(t, CreateParams{})
	wantCode(t, f.verify(t, old, ""), CodeValid)
	k2, rolled, err := f.svc.Roll(ctx, k.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if k2.ID != k.ID || rolled == old || !strings.HasPrefix(rolled, k.Prefix()+"_") || k2.Hint == k.Hint {
		t.Fatalf("rolled %q (%+v) from %q", rolled, k2, old)
	}
	wantCode(t, f.verify(t, rolled, ""), CodeValid)
	wantCode(t, f.verify(t, old, ""), CodeValid)
	f.clock.Add(time.Hour)
	wantCode(t, f.verify(t, rolled, ""), CodeValid)
	wantCode(t, f.verify(t, old, ""), CodeRevoked)

	// A second roll without grace ends the first rolled key at once; revoke
	// ends everything.
	_, third, err := f.svc.Roll(ctx, k.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.verify(t, rolled, ""), CodeRevoked)
	wantCode(t, f.verify(t, third, ""), CodeValid)
	_, fourth, err := f.svc.Roll(ctx, k.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Revoke(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, f.verify(t, third, ""), CodeRevoked)
	wantCode(t, f.verify(t, fourth, ""), CodeRevoked)
	if _, _, err := f.svc.Roll(ctx, k.ID, -time.Second); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("negative grace: %v", err)
	}
}

func TestUpdate(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	k, raw := f.create(t, CreateParams{Scopes: []string{"read"}})
	wantCode(t, f.verify(t, raw, "write"), CodeInsufficientScope)
	name, scopes, rl := "renamed", []string{"read", "write"}, RateLimit{Limit: 1, Period: time.Hour}
	exp := f.clock.Now().Add(time.Minute)
	got, err := f.svc.Update(ctx, k.ID, UpdateParams{Name: &name, Scopes: &scopes, RateLimit: &rl, ExpiresAt: &exp})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != name || len(got.Scopes) != 2 || got.RateLimit != rl || !got.ExpiresAt.Equal(exp) {
		t.Fatalf("updated %+v", got)
	}
	// The cache was dropped: the new scope and limit apply at once.
	wantCode(t, f.verify(t, raw, "write"), CodeValid)
	wantCode(t, f.verify(t, raw, "write"), CodeRateLimited)
	bad := "a b"
	if _, err := f.svc.Update(ctx, k.ID, UpdateParams{Scopes: &[]string{bad}}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("bad scope: %v", err)
	}
	if _, err := f.svc.Update(ctx, "nope", UpdateParams{Name: &name}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
}

func TestInvalidationFromAnotherInstance(t *testing.T) {
	ctx := context.Background()
	events := &localEvents{}
	store := newMemStore()
	a := newFixture(t, func(c *Config) { c.Store, c.Events = store, events })
	b := newFixture(t, func(c *Config) { c.Store, c.Events = store, events })
	k, raw := a.create(t, CreateParams{})
	wantCode(t, b.verify(t, raw, ""), CodeValid) // now cached on b
	if err := a.svc.Revoke(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, b.verify(t, raw, ""), CodeRevoked)
	// Resync drops everything.
	b.verify(t, raw, "")
	before := store.calls.Load()
	events.Notify(ctx, Channel, "*")
	b.verify(t, raw, "")
	if store.calls.Load() == before {
		t.Fatal("resync did not drop the cache")
	}
}

func TestUsageIsBatched(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	k, raw := f.create(t, CreateParams{})
	f.verify(t, raw, "")
	before := f.store.calls.Load()
	for range 50 {
		f.verify(t, raw, "")
	}
	f.svc.Inspect(ctx, raw)
	if f.store.calls.Load() != before {
		t.Fatal("verification wrote to the store")
	}
	if err := f.svc.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := f.svc.Get(ctx, k.ID)
	if got.UsageCount != 51 || !got.LastUsedAt.Equal(f.clock.Now()) {
		t.Fatalf("usage %d, last used %v", got.UsageCount, got.LastUsedAt)
	}
	if err := f.svc.Flush(ctx); err != nil || f.store.calls.Load() != before+2 {
		t.Fatalf("empty flush wrote: %v", err)
	}
}

func TestRunFlushesOnTickAndExit(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.FlushInterval = 10 * time.Millisecond })
	k, raw := f.create(t, CreateParams{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.svc.Run(ctx) }()
	f.verify(t, raw, "")
	deadline := time.Now().Add(2 * time.Second)
	for {
		got, _ := f.svc.Get(context.Background(), k.ID)
		if got.UsageCount == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run did not flush")
		}
		time.Sleep(5 * time.Millisecond)
	}
	f.verify(t, raw, "")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got, _ := f.svc.Get(context.Background(), k.ID); got.UsageCount != 2 {
		t.Fatalf("final flush: usage %d", got.UsageCount)
	}
}

func TestListAndDelete(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	for range 5 {
		f.create(t, CreateParams{})
	}
	var all []*APIKey
	cursor := ""
	for {
		page, next, err := f.svc.List(ctx, 2, cursor)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(all) != 5 {
		t.Fatalf("listed %d", len(all))
	}
	if err := f.svc.Delete(ctx, all[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Get(ctx, all[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

// slowStore holds GetAPIKey until release is closed.
type slowStore struct {
	*memStore
	release chan struct{}
}

func (s *slowStore) GetAPIKey(ctx context.Context, id string) (*APIKey, error) {
	<-s.release
	return s.memStore.GetAPIKey(ctx, id)
}

func TestConcurrentMissesShareOneLoad(t *testing.T) {
	mem := newMemStore()
	slow := &slowStore{memStore: mem, release: make(chan struct{})}
	f := newFixture(t, func(c *Config) { c.Store = slow })
	close(slow.release)
	_, raw := f.create(t, CreateParams{})
	f.svc.cache.invalidate(resync)
	slow.release = make(chan struct{})
	before := mem.calls.Load()
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if r, err := f.svc.Verify(context.Background(), raw, ""); err != nil || !r.Valid {
				t.Errorf("Verify: %s, %v", r.Code, err)
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	close(slow.release)
	wg.Wait()
	if n := mem.calls.Load() - before; n != 1 {
		t.Fatalf("%d loads for 16 concurrent misses, want 1", n)
	}
}
