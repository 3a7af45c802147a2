package postgres_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store/postgres/pgtest"
	"github.com/keyward/keyward/store/storetest"
)

func TestAPIKeysConformance(t *testing.T) {
	storetest.RunAPIKeys(t, func(t *testing.T) keys.Store { return openTest(t) })
}

// TestAPIKeyRevocationReachesEveryInstance runs two Services on one schema,
// each with its own connection pool and listener, as two servers would:
// a key cached by both and revoked (or rolled without grace) through one
// is refused by the other within a second, long before the cache TTL.
func TestAPIKeyRevocationReachesEveryInstance(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Schema(t)
	dbA, dbB := openURL(t, url), openURL(t, url)
	secret := keys.Secret(bytes.Repeat([]byte("p"), 32))
	newService := func(db keys.Store, ev keys.Events) *keys.Service {
		svc, err := keys.New(keys.Config{Store: db, Events: ev, Secret: secret, CacheTTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { svc.Close() })
		return svc
	}
	a, b := newService(dbA, dbA), newService(dbB, dbB)

	verify := func(svc *keys.Service, raw string) keys.Code {
		r, err := svc.Verify(ctx, raw, "")
		if err != nil {
			t.Fatal(err)
		}
		return r.Code
	}
	waitFor := func(svc *keys.Service, raw string, want keys.Code) {
		t.Helper()
		start := time.Now()
		for verify(svc, raw) != want {
			if time.Since(start) > 2*time.Second {
				t.Fatalf("still not %s after 2s", want)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("took %v to reach the other instance", d)
		}
	}

	k, raw, err := a.Create(ctx, keys.CreateParams{Name: "shared"})
	if err != nil {
		t.Fatal(err)
	}
	if c := verify(b, raw); c != keys.CodeValid {
		t.Fatalf("b: %s", c)
	}
	if _, _, err := a.Roll(ctx, k.ID, 0); err != nil {
		t.Fatal(err)
	}
	waitFor(b, raw, keys.CodeRevoked)

	k2, raw2, err := b.Create(ctx, keys.CreateParams{Name: "second"})
	if err != nil {
		t.Fatal(err)
	}
	if c := verify(a, raw2); c != keys.CodeValid {
		t.Fatalf("a: %s", c)
	}
	if c := verify(b, raw2); c != keys.CodeValid {
		t.Fatalf("b: %s", c)
	}
	if err := a.Revoke(ctx, k2.ID); err != nil {
		t.Fatal(err)
	}
	if c := verify(a, raw2); c != keys.CodeRevoked {
		t.Fatalf("a after its own revoke: %s", c)
	}
	waitFor(b, raw2, keys.CodeRevoked)
}

// TestAPIKeyRateLimitAcrossInstances runs two Services, each with its own
// pool, as two servers would: calls spread over both get the key's limit
// once, not once per instance. (Run syncs every RateSyncInterval; here
// each call is followed by a sync of both, so the count is exact.)
func TestAPIKeyRateLimitAcrossInstances(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url := pgtest.Schema(t)
	secret := keys.Secret(bytes.Repeat([]byte("p"), 32))
	var svcs []*keys.Service
	for range 2 {
		db := openURL(t, url)
		svc, err := keys.New(keys.Config{Store: db, Events: db, Secret: secret})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { svc.Close() })
		svcs = append(svcs, svc)
	}
	_, raw, err := svcs[0].Create(ctx, keys.CreateParams{Name: "limited", RateLimit: keys.RateLimit{Limit: 10, Period: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	valid := 0
	for i := range 30 {
		r, err := svcs[i%2].Verify(ctx, raw, "")
		if err != nil {
			t.Fatal(err)
		}
		if r.Code == keys.CodeValid {
			valid++
		}
		for _, svc := range []*keys.Service{svcs[i%2], svcs[(i+1)%2]} {
			if err := svc.SyncRateLimits(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if valid != 10 {
		t.Fatalf("%d calls valid across two instances; want the limit, 10", valid)
	}
}
