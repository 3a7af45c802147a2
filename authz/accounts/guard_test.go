package accounts

import (
	"maps"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/keys/clocktest"
)

// TestLoginGuardParallel: attempts in flight count as failures, so 40
// parallel guesses for one user get only the free ones through.
func TestLoginGuardParallel(t *testing.T) {
	clock := clocktest.At(time.Unix(1_700_000_000, 0))
	g := NewLoginGuard(clock.Now)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		reserved []*Attempt
		refused  int
	)
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, wait := g.Begin("bob", "192.0.2.1")
			mu.Lock()
			defer mu.Unlock()
			if wait > 0 {
				refused++
				return
			}
			reserved = append(reserved, a)
		}()
	}
	wg.Wait()
	if len(reserved) != freePairFailures || refused != 40-freePairFailures {
		t.Fatalf("40 parallel attempts: %d reserved, %d refused; want %d reserved", len(reserved), refused, freePairFailures)
	}
	for _, a := range reserved {
		a.Fail()
	}
	// The free failures are spent: one attempt at a time now.
	a, wait := g.Begin("bob", "192.0.2.1")
	if wait != 0 {
		t.Fatalf("attempt after the free failures settled: wait %v", wait)
	}
	if _, wait := g.Begin("bob", "192.0.2.1"); wait <= 0 {
		t.Fatal("a second attempt beyond the free failures went through while the first was in flight")
	}
	a.Fail()
	if _, wait := g.Begin("bob", "192.0.2.1"); wait != time.Second {
		t.Fatalf("after the sixth failure: wait %v, want 1s", wait)
	}
	clock.Add(time.Second)
	a, wait = g.Begin("bob", "192.0.2.1")
	if wait != 0 {
		t.Fatalf("after the backoff: wait %v", wait)
	}
	a.Succeed()
	a.Fail() // settled already: ignored
	if a, wait := g.Begin("bob", "192.0.2.1"); wait != 0 {
		t.Fatalf("after a success: wait %v", wait)
	} else {
		a.Cancel()
	}
}

// TestLoginGuardAddress: one address gets its free failures across
// usernames, counting those in flight; Cancel releases a reservation.
func TestLoginGuardAddress(t *testing.T) {
	clock := clocktest.At(time.Unix(1_700_000_000, 0))
	g := NewLoginGuard(clock.Now)
	var held []*Attempt
	for i := range freeIPFailures {
		a, wait := g.Begin("user"+strconv.Itoa(i), "192.0.2.9")
		if wait != 0 {
			t.Fatalf("attempt %d from the address refused", i)
		}
		held = append(held, a)
	}
	if _, wait := g.Begin("someone-else", "192.0.2.9"); wait <= 0 {
		t.Fatal("attempt beyond the address's free failures went through")
	}
	other, wait := g.Begin("someone-else", "198.51.100.1")
	if wait != 0 {
		t.Fatal("another address was refused")
	}
	other.Cancel()
	held[0].Cancel()
	held[0].Fail() // cancelled already: ignored
	if a, wait := g.Begin("someone-else", "192.0.2.9"); wait != 0 {
		t.Fatal("a cancelled attempt still counts")
	} else {
		a.Cancel()
	}
	for _, a := range held[1:] {
		a.Cancel()
	}
	g.mu.Lock()
	n := len(g.failures)
	g.mu.Unlock()
	if n != 0 {
		t.Errorf("%d guard entries left after every attempt was cancelled", n)
	}
}

// TestLoginGuardFailuresFade: an address's failures fade an hour after the
// last failure, even while others keep signing in from it; the addresses of
// one IPv6 /64 count together.
func TestLoginGuardFailuresFade(t *testing.T) {
	clock := clocktest.At(time.Unix(1_700_000_000, 0))
	g := NewLoginGuard(clock.Now)
	fail := func(user, ip string) {
		t.Helper()
		a, wait := g.Begin(user, ip)
		if wait != 0 {
			t.Fatalf("%s from %s refused for %s", user, ip, wait)
		}
		a.Fail()
	}
	for i := range freeIPFailures {
		fail("guess"+strconv.Itoa(i), "192.0.2.7")
	}
	// Successful sign-ins every 50 minutes for a day.
	for range 30 {
		clock.Add(50 * time.Minute)
		a, wait := g.Begin("alice", "192.0.2.7")
		if wait != 0 {
			t.Fatalf("a sign-in waited %s", wait)
		}
		a.Succeed()
	}
	// One typo now is the first failure in a day, not the 21st.
	fail("alice", "192.0.2.7")
	if a, wait := g.Begin("bob", "192.0.2.7"); wait != 0 {
		t.Fatalf("one failure after the old ones faded locked the address for %s", wait)
	} else {
		a.Cancel()
	}

	// IPv6: every address of 2001:db8:1:2::/64 is one address.
	for i := range freeIPFailures + 1 {
		fail("v6guess"+strconv.Itoa(i), "2001:db8:1:2::"+strconv.FormatInt(int64(i+1), 16))
	}
	if _, wait := g.Begin("v6other", "2001:db8:1:2:ffff::1"); wait == 0 {
		t.Fatal("a new address in the same /64 got fresh attempts")
	}
	if a, wait := g.Begin("v6other", "2001:db8:1:3::1"); wait != 0 {
		t.Fatal("another /64 was refused")
	} else {
		a.Cancel()
	}
}

// TestLoginGuardPrune: Prune forgets failures older than failureMemory
// and keeps recent ones and attempts in flight.
func TestLoginGuardPrune(t *testing.T) {
	t.Parallel()
	clock := clocktest.At(time.Unix(1_700_000_000, 0))
	g := NewLoginGuard(clock.Now)
	fail := func(user, ip string) {
		t.Helper()
		a, wait := g.Begin(user, ip)
		if wait != 0 {
			t.Fatalf("%s from %s refused for %s", user, ip, wait)
		}
		a.Fail()
	}
	keys := func() map[string]bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		m := map[string]bool{}
		for k := range g.failures {
			m[k] = true
		}
		return m
	}
	fail("old", "192.0.2.1")
	inFlight, wait := g.Begin("slow", "192.0.2.3")
	if wait != 0 {
		t.Fatal("the in-flight attempt was refused")
	}
	clock.Add(failureMemory + time.Second)
	fail("recent", "192.0.2.2")
	g.Prune()

	recent := map[string]bool{"u:recent": true, "ip:192.0.2.2": true, pairKey("recent", "192.0.2.2"): true}
	slow := map[string]bool{"u:slow": true, "ip:192.0.2.3": true, pairKey("slow", "192.0.2.3"): true}
	if got := keys(); !maps.Equal(got, union(recent, slow)) {
		t.Errorf("entries after Prune %v; want %v", got, union(recent, slow))
	}
	inFlight.Cancel()
	if got := keys(); !maps.Equal(got, recent) {
		t.Errorf("entries after the in-flight attempt ended %v; want only recent's %v", got, recent)
	}
}

func union(a, b map[string]bool) map[string]bool {
	m := maps.Clone(a)
	maps.Copy(m, b)
	return m
}
