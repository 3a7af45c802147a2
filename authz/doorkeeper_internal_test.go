package authz

import (
	"strconv"
	"testing"
	"time"
)

// TestDoorkeeper: a key is seen from its second showing on, for at least
// half a generation of other keys, and forgotten after two generations.
func TestDoorkeeper(t *testing.T) {
	d := newDoorkeeper()
	key := func(i int) string { return "sig-" + strconv.Itoa(i) }
	for i := range 1000 {
		if d.seen(key(i)) {
			t.Fatalf("key %d seen on its first showing", i)
		}
	}
	for i := range doorkeeperSlots / 2 {
		d.seen(key(1_000_000 + i))
	}
	for i := range 1000 {
		if !d.seen(key(i)) {
			t.Fatalf("key %d forgotten after half a generation of others", i)
		}
	}
	for i := range doorkeeperSlots + 2 {
		d.seen(key(2_000_000 + i))
	}
	forgotten := 0
	for i := range 1000 {
		if !d.seen(key(i)) {
			forgotten++
		}
	}
	if forgotten < 990 {
		t.Errorf("after two generations of other keys, only %d of 1000 keys forgotten", forgotten)
	}
}

// TestOpaqueCacheAdmission: a cold tour of tokens introspected once
// neither evicts a working set in steady use nor keeps a new working set
// out afterwards: that set is all hits from its second pass on (with
// otter's frequency admission alone, a working set of 9,000 tokens had 41%
// hits on its third pass after such a tour).
func TestOpaqueCacheAdmission(t *testing.T) {
	now := time.Now
	c := newOpaqueCache(now, noObserver{})
	tok := func(i int) string { return opaqueTokenOf(i) }
	body := make([]byte, 300)
	// touch introspects token i as introspection does: the cache, else a
	// read and a fill; it reports a cache hit.
	touch := func(i int) bool {
		if _, _, ok := c.get(tok(i)); ok {
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
	c.entries.CleanUp()
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
	c.entries.CleanUp()
	if got := pass(0, warm); got < warm*99/100 {
		t.Errorf("second pass over a working set after a cold tour: %d of %d hits", got, warm)
	}
	// A second tour of the same tokens (each read twice, so proven) still
	// leaves the hot set alone: the cache's frequency admission keeps it.
	for range 2 {
		tour(4_000_000, 30_000)
	}
	c.entries.CleanUp()
	if got := pass(1_000_000, hot); got < hot*95/100 {
		t.Errorf("after a tour read twice, %d of %d hot tokens were still cached", got, hot)
	}
}

// TestOpaqueCacheAdmissionAfterOwnTour: a working set taken from the start
// of the cold tour just before it (as keyward bench's
// introspect-opaque-warm follows introspect-opaque-many) gets in on its
// first pass. The doorkeeper still remembers those tokens, so their next
// read proves them; a proven answer must take its room from the tour's
// newcomers rather than face the cache's frequency admission against them
// (where a tie keeps the old entry).
func TestOpaqueCacheAdmissionAfterOwnTour(t *testing.T) {
	now := time.Now
	c := newOpaqueCache(now, noObserver{})
	body := make([]byte, 300)
	touch := func(i int) bool {
		tok := opaqueTokenOf(i)
		if _, _, ok := c.get(tok); ok {
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
	c.entries.CleanUp()
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
