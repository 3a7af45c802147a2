package authz

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/sqlite/sqlitetest"
)

// TestOpaqueCacheEntries: answers stop exactly at the token's expiry, live
// at most OpaqueCacheTTL, need the whole token (not only its signature), are
// dropped by signature, by request id and by a resync, and a fill that
// raced an invalidation is not kept.
func TestOpaqueCacheEntries(t *testing.T) {
	clock := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	c := newOpaqueCache(now, noObserver{})
	const tok = "kw_at_key1.sig1"
	body := []byte(`{"active":true}`)

	c.put(c.generation(), tok, "req1", "app", clock.Add(2*time.Second), body, true)
	if got, client, ok := c.get(tok); !ok || string(got) != string(body) || client != "app" {
		t.Fatalf("get after put: %q %q %v", got, client, ok)
	}
	if e, _ := c.entries.GetIfPresent("sig1"); e.lifetime != 2*time.Second {
		t.Errorf("lifetime of a token expiring in 2 s: %v", e.lifetime)
	}
	clock = clock.Add(2*time.Second - time.Nanosecond)
	if _, _, ok := c.get(tok); !ok {
		t.Errorf("no answer a nanosecond before expiry")
	}
	clock = clock.Add(time.Nanosecond)
	if _, _, ok := c.get(tok); ok {
		t.Errorf("an answer at the token's expiry")
	}

	c.put(c.generation(), tok, "req1", "app", clock.Add(time.Hour), body, true)
	if e, _ := c.entries.GetIfPresent("sig1"); e.lifetime != OpaqueCacheTTL {
		t.Errorf("lifetime of a token expiring in an hour: %v, want %v", e.lifetime, OpaqueCacheTTL)
	}
	if _, _, ok := c.get("kw_at_forged.sig1"); ok {
		t.Errorf("a token with another key but the same signature got the cached answer")
	}
	c.put(c.generation(), "kw_at_key2.sig2", "req2", "app", clock.Add(-time.Second), body, true)
	if _, _, ok := c.get("kw_at_key2.sig2"); ok {
		t.Errorf("an expired token was cached")
	}

	// Invalidation by signature, by request, and everything.
	fill := func() {
		for i := range 4 {
			c.put(c.generation(), "kw_at_k"+strconv.Itoa(i)+".s"+strconv.Itoa(i), "req"+strconv.Itoa(i%2), "app",
				clock.Add(time.Hour), body, true)
		}
	}
	has := func(i int) bool { _, _, ok := c.get("kw_at_k" + strconv.Itoa(i) + ".s" + strconv.Itoa(i)); return ok }
	fill()
	c.onEvent("ss0")
	if has(0) || !has(1) || !has(2) || !has(3) {
		t.Errorf("by signature: %v %v %v %v", has(0), has(1), has(2), has(3))
	}
	fill()
	c.onEvent("rreq1 ss2")
	if !has(0) || has(1) || has(2) || has(3) {
		t.Errorf("by request and signature: %v %v %v %v", has(0), has(1), has(2), has(3))
	}
	fill()
	c.onEvent(store.Resync)
	if has(0) || has(1) || has(2) || has(3) {
		t.Errorf("after a resync: %v %v %v %v", has(0), has(1), has(2), has(3))
	}

	// A fill that read the database before an invalidation is dropped.
	gen := c.generation()
	c.invalidate([]string{"unrelated"}, nil)
	c.put(gen, tok, "req1", "app", clock.Add(time.Hour), body, true)
	if _, _, ok := c.get(tok); ok {
		t.Errorf("a fill that raced an invalidation was kept")
	}
}

// TestWatchedTokensAnnounce: each write that ends access or refresh tokens,
// on a real store, drops them from this instance's cache and names them on
// TokensChannel, in payloads under the events limit; writes of other kinds
// announce nothing.
func TestWatchedTokensAnnounce(t *testing.T) {
	ctx := context.Background()
	db := sqlitetest.Open(t)
	events := &store.LocalEvents{}
	var (
		mu       sync.Mutex
		payloads []string
	)
	events.Subscribe(TokensChannel, func(p string) {
		mu.Lock()
		payloads = append(payloads, p)
		mu.Unlock()
	})
	now := time.Now
	cache := newOpaqueCache(now, noObserver{})
	w := &watchedTokens{TokenStore: db, cache: cache, events: events}
	body := []byte(`{"active":true}`)
	cache.put(cache.generation(), "kw_at_a.sigA", "reqA", "app", now().Add(time.Hour), body, true)
	cache.put(cache.generation(), "kw_rt_b.sigB", "reqB", "app", now().Add(time.Hour), body, true)

	var changes []store.TokenChange
	for i := range 300 {
		changes = append(changes, store.TokenChange{Kind: store.KindAccessToken, Signature: strings.Repeat("x", 40) + strconv.Itoa(i), Delete: true})
	}
	changes = append(changes, store.TokenChange{Kind: store.KindAccessToken, Signature: "sigA", Delete: true},
		store.TokenChange{Kind: store.KindAuthorizeCode, Signature: "code", Delete: true})
	if err := w.ApplyTokenChanges(ctx, changes); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := cache.get("kw_at_a.sigA"); ok {
		t.Errorf("a deleted access token is still cached")
	}
	mu.Lock()
	seen := map[string]bool{}
	for _, p := range payloads {
		if len(p) > maxTokensPayload {
			t.Errorf("payload of %d bytes", len(p))
		}
		for _, item := range strings.Fields(p) {
			seen[item] = true
		}
	}
	if len(seen) != 301 || !seen["ssigA"] || seen["scode"] {
		t.Errorf("announced %d items (sigA %v, code %v), want the 301 access tokens", len(seen), seen["ssigA"], seen["scode"])
	}
	payloads = nil
	mu.Unlock()

	if err := w.DeleteRequest(ctx, "reqB"); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := cache.get("kw_rt_b.sigB"); ok {
		t.Errorf("a token of a deleted grant is still cached")
	}
	if _, err := w.DeactivateToken(ctx, store.KindAuthorizeCode, "nope", now()); err == nil {
		t.Errorf("deactivating a missing code: no error")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(payloads) != 1 || payloads[0] != "rreqB" {
		t.Errorf("payloads after a grant deletion and a code write: %q", payloads)
	}
}
