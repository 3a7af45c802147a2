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

	c.fill(c.generation(), tok, "req1", "app", clock.Add(2*time.Second), body)
	if got, client, ok := c.get(tok, nil); !ok || string(got) != string(body) || client != "app" {
		t.Fatalf("get after fill: %q %q %v", got, client, ok)
	}
	if got := opaqueExpiry(c, "sig1").Sub(clock); got != 2*time.Second {
		t.Errorf("lifetime of a token expiring in 2 s: %v", got)
	}
	clock = clock.Add(2*time.Second - time.Nanosecond)
	if _, _, ok := c.get(tok, nil); !ok {
		t.Errorf("no answer a nanosecond before expiry")
	}
	clock = clock.Add(time.Nanosecond)
	if _, _, ok := c.get(tok, nil); ok {
		t.Errorf("an answer at the token's expiry")
	}

	c.fill(c.generation(), tok, "req1", "app", clock.Add(time.Hour), body)
	if got := opaqueExpiry(c, "sig1").Sub(clock); got != OpaqueCacheTTL {
		t.Errorf("lifetime of a token expiring in an hour: %v, want %v", got, OpaqueCacheTTL)
	}
	if _, _, ok := c.get("kw_at_forged.sig1", nil); ok {
		t.Errorf("a token with another key but the same signature got the cached answer")
	}
	c.fill(c.generation(), "kw_at_key2.sig2", "req2", "app", clock.Add(-time.Second), body)
	if _, _, ok := c.get("kw_at_key2.sig2", nil); ok {
		t.Errorf("an expired token was cached")
	}

	// Invalidation by signature, by request, and everything.
	fill := func() {
		for i := range 4 {
			c.fill(c.generation(), "kw_at_k"+strconv.Itoa(i)+".s"+strconv.Itoa(i), "req"+strconv.Itoa(i%2), "app",
				clock.Add(time.Hour), body)
		}
	}
	has := func(i int) bool { _, _, ok := c.get("kw_at_k"+strconv.Itoa(i)+".s"+strconv.Itoa(i), nil); return ok }
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
	c.fill(gen, tok, "req1", "app", clock.Add(time.Hour), body)
	if _, _, ok := c.get(tok, nil); ok {
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
	cache.fill(cache.generation(), "kw_at_a.sigA", "reqA", "app", now().Add(time.Hour), body)
	cache.fill(cache.generation(), "kw_rt_b.sigB", "reqB", "app", now().Add(time.Hour), body)

	var changes []store.TokenChange
	for i := range 300 {
		changes = append(changes, store.TokenChange{Kind: store.KindAccessToken, Signature: strings.Repeat("x", 40) + strconv.Itoa(i), Delete: true})
	}
	changes = append(changes, store.TokenChange{Kind: store.KindAccessToken, Signature: "sigA", Delete: true},
		store.TokenChange{Kind: store.KindAuthorizeCode, Signature: "code", Delete: true})
	if err := w.ApplyTokenChanges(ctx, changes); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := cache.get("kw_at_a.sigA", nil); ok {
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
	if _, _, ok := cache.get("kw_rt_b.sigB", nil); ok {
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

// opaqueExpiry is when c's answer for the record signature sig stops.
func opaqueExpiry(c *opaqueCache, sig string) time.Time {
	h := c.hash(sig)
	sh := c.small.table.Shard(h)
	sh.RLock()
	defer sh.RUnlock()
	if _, s := c.small.find(sh, h, sig); s != nil {
		return time.Unix(0, s.expires)
	}
	return time.Time{}
}

// TestOpaqueCacheAdmission: a cold tour of tokens introspected once
// neither evicts a working set in steady use nor keeps a new working set
// out afterwards: that set is all hits from its second pass on (with
// otter's frequency admission alone, before the cache kept its answers in
// slots, a working set of 9,000 tokens had 41% hits on its third pass
// after such a tour).
func TestOpaqueCacheAdmission(t *testing.T) {
	now := time.Now
	c := newOpaqueCache(now, noObserver{})
	tok := func(i int) string { return opaqueTokenOf(i) }
	body := make([]byte, 300)
	// touch introspects token i as introspection does: the cache, else a
	// read and a fill; it reports a cache hit.
	touch := func(i int) bool {
		if _, _, ok := c.get(tok(i), nil); ok {
			return true
		}
		c.fill(c.generation(), tok(i), "req-"+strconv.Itoa(i), "client", now().Add(time.Hour), append([]byte(nil), body...))
		return false
	}
	if touch(1) || !touch(1) {
		t.Fatalf("a token should be answered from the cache from its second introspection on")
	}

	const hot = 500
	pass := func(from, n int) (hits int) {
		for i := from; i < from+n; i++ {
			if touch(i) {
				hits++
			}
		}
		return hits
	}
	// tour introspects n tokens from base once each, and the hot set in
	// steady use throughout (one of it every ten).
	tour := func(base, n int) {
		for i := range n {
			touch(base + i)
			if i%10 == 0 {
				touch(1_000_000 + (i/10)%hot)
			}
		}
	}
	pass(1_000_000, hot)
	pass(1_000_000, hot)
	// A cold tour, the hot set in steady use throughout.
	tour(2_000_000, 200_000)
	if got := pass(1_000_000, hot); got < hot*99/100 {
		t.Errorf("after a cold tour, %d of %d hot tokens were still cached", got, hot)
	}
	// A new working set, about three quarters of the budget, after another
	// cold tour: all in after its first pass.
	for i := range 200_000 {
		touch(3_000_000 + i)
	}
	const warm = 9_000
	pass(0, warm)
	if got := pass(0, warm); got < warm*99/100 {
		t.Errorf("second pass over a working set after a cold tour: %d of %d hits", got, warm)
	}
	// A second tour of the same tokens (each read twice) still leaves the
	// hot set alone: read again between the clock hand's passes, it stays.
	for range 2 {
		tour(4_000_000, 30_000)
	}
	if got := pass(1_000_000, hot); got < hot*95/100 {
		t.Errorf("after a tour read twice, %d of %d hot tokens were still cached", got, hot)
	}
}

// TestOpaqueCacheAdmissionAfterOwnTour: a working set taken from the start
// of the cold tour just before it (as keyward bench's
// introspect-opaque-warm follows introspect-opaque-many) gets in on its
// first pass. (With otter, the doorkeeper that remembered those tokens
// made their next read face the cache's frequency admission against the
// tour's leftovers, where a tie kept the old entry.)
func TestOpaqueCacheAdmissionAfterOwnTour(t *testing.T) {
	now := time.Now
	c := newOpaqueCache(now, noObserver{})
	body := make([]byte, 300)
	touch := func(i int) bool {
		tok := opaqueTokenOf(i)
		if _, _, ok := c.get(tok, nil); ok {
			return true
		}
		c.fill(c.generation(), tok, "req-"+strconv.Itoa(i), "client", now().Add(time.Hour), append([]byte(nil), body...))
		return false
	}
	const tour, warm = 60_000, 9_000
	for i := range tour {
		touch(i)
	}
	for i := range warm {
		touch(i)
	}
	hits := 0
	for i := range warm {
		if touch(i) {
			hits++
		}
	}
	if hits < warm*99/100 {
		t.Errorf("second pass over a working set read at the start of the tour before: %d of %d hits", hits, warm)
	}
}

// TestOpaqueCacheSizes: an answer too long for a slot of the usual size
// is kept in a large one, and one too long for that is not kept; an
// answer that changes size lives in one table only.
func TestOpaqueCacheSizes(t *testing.T) {
	now := time.Now()
	c := newOpaqueCache(func() time.Time { return now }, noObserver{})
	const tok = "kw_at_key.sigS"
	for _, tc := range []struct {
		n            int
		small, large int
	}{{300, 1, 0}, {1000, 0, 1}, {200, 1, 0}, {3000, 0, 0}, {1500, 0, 1}} {
		body := []byte(`{"active":true,"scope":"` + strings.Repeat("s", tc.n) + `"}`)
		c.fill(c.generation(), tok, "req", "app", now.Add(time.Hour), body)
		if s, l := c.small.table.Len(), c.large.table.Len(); s != tc.small || l != tc.large {
			t.Fatalf("an answer of %d bytes: %d small and %d large entries, want %d and %d", len(body), s, l, tc.small, tc.large)
		}
		got, client, ok := c.get(tok, []byte("x"))
		if want := tc.small+tc.large == 1; ok != want || ok && (string(got) != "x"+string(body) || client != "app") {
			t.Fatalf("an answer of %d bytes: cached %v, %d bytes, client %q", len(body), ok, len(got), client)
		}
	}
}

// TestOpaqueCacheConcurrent: lookups, fills, invalidations and resets at
// once (run with -race) answer only the body filled for each token.
func TestOpaqueCacheConcurrent(t *testing.T) {
	now := time.Now()
	c := newOpaqueCache(func() time.Time { return now }, noObserver{})
	c.small = newOpaqueTable[[opaqueSlotBytes - opaqueSlotHead]byte](600) // two shards; the tokens below evict
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			buf := make([]byte, 0, 512)
			for i := range 3000 {
				n := (i*7 + g) % 1500
				tok := "kw_at_k" + strconv.Itoa(n) + ".s" + strconv.Itoa(n)
				body := `{"n":` + strconv.Itoa(n) + strings.Repeat(" ", n%700) + `}`
				if got, _, ok := c.get(tok, buf[:0]); ok && string(got) != body {
					t.Errorf("token %d answered %.40q", n, got)
					return
				}
				c.fill(c.generation(), tok, "req"+strconv.Itoa(n%10), "app", now.Add(time.Hour), []byte(body))
				switch {
				case g == 0 && i%500 == 499:
					c.invalidate([]string{"s" + strconv.Itoa(n)}, []string{"req3"})
				case g == 1 && i%1500 == 1499:
					c.reset()
				}
			}
		})
	}
	wg.Wait()
}

// TestOpaqueCacheSweep: a sweep drops the answers expired by then and
// keeps the others; once all have expired their slots go too.
func TestOpaqueCacheSweep(t *testing.T) {
	now := time.Now()
	c := newOpaqueCache(func() time.Time { return now }, noObserver{})
	body := []byte(`{"active":true}`)
	c.fill(c.generation(), "kw_at_a.sigA", "reqA", "app", now.Add(10*time.Second), body)
	c.fill(c.generation(), "kw_at_b.sigB", "reqB", "app", now.Add(time.Hour), body)
	c.fill(c.generation(), "kw_at_c.sigC", "reqC", "app", now.Add(time.Hour), append(body, strings.Repeat(" ", 1000)...))
	now = now.Add(10 * time.Second)
	c.sweep()
	if _, _, ok := c.get("kw_at_b.sigB", nil); !ok || c.len() != 2 {
		t.Fatalf("%d answers after the first sweep (b cached: %v), want b and c", c.len(), ok)
	}
	now = now.Add(OpaqueCacheTTL)
	c.sweep()
	if c.len() != 0 || c.small.table.Used() != 0 || c.large.table.Used() != 0 {
		t.Fatalf("%d answers, %d and %d slots after every answer expired", c.len(), c.small.table.Used(), c.large.table.Used())
	}
}
