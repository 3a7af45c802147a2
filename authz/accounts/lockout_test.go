package accounts

import (
	"strconv"
	"testing"
	"time"

	"github.com/keyward/keyward/keys/clocktest"
)

// guessUntilRefused fails attempts for username from ip, waiting out each
// backoff on clock, n times, and returns the longest wait it met.
func guessUntilRefused(t *testing.T, g *LoginGuard, clock *clocktest.Clock, username, ip string, n int) time.Duration {
	t.Helper()
	var longest time.Duration
	for range n {
		a, wait := g.Begin(username, ip)
		for wait > 0 {
			longest = max(longest, wait)
			clock.Add(wait)
			a, wait = g.Begin(username, ip)
		}
		a.Fail()
	}
	return longest
}

// TestLoginGuardNoLockout: whoever keeps guessing a known username from
// one address is slowed down on that address only; the user signs in
// from anywhere else at once, and even from the attacker's address the
// wait is the attacker's backoff, never a lockout of the user.
func TestLoginGuardNoLockout(t *testing.T) {
	clock := clocktest.At(time.Unix(1_700_000_000, 0))
	g := NewLoginGuard(clock.Now)
	if longest := guessUntilRefused(t, g, clock, "alice", "203.0.113.66", 40); longest < time.Minute {
		t.Fatalf("40 wrong passwords from one address waited at most %s; want a growing backoff", longest)
	}
	if _, wait := g.Begin("alice", "203.0.113.66"); wait == 0 {
		t.Fatal("the guessing address is not held back")
	}
	a, wait := g.Begin("alice", "198.51.100.7")
	if wait != 0 {
		t.Fatalf("alice from her own address waits %s after someone else guessed her password", wait)
	}
	a.Succeed()
	// The guesser's address stays slowed for other users' names too once
	// it spent its free failures across usernames.
	for i := range freeIPFailures {
		guessUntilRefused(t, g, clock, "user"+strconv.Itoa(i), "203.0.113.66", 1)
	}
	if _, wait := g.Begin("bob", "203.0.113.66"); wait == 0 {
		t.Fatal("an address that failed for many usernames is not held back")
	}
}

// TestLoginGuardDistributed: guesses for one username spread over many
// addresses (each within its own free failures) meet the far higher
// per-username limit; an address the user signed in from before is not
// held back by it.
func TestLoginGuardDistributed(t *testing.T) {
	clock := clocktest.At(time.Unix(1_700_000_000, 0))
	g := NewLoginGuard(clock.Now)
	a, wait := g.Begin("alice", "198.51.100.7")
	if wait != 0 {
		t.Fatal(wait)
	}
	a.Succeed() // alice's usual address

	addr := func(i int) string { return "10." + strconv.Itoa(i/250) + "." + strconv.Itoa(i%250) + ".1" }
	n := 0
	for i := 0; n <= freeUserFailures; i++ {
		for j := range freePairFailures - 1 {
			if n > freeUserFailures {
				break
			}
			a, wait := g.Begin("alice", addr(i))
			if wait != 0 {
				t.Fatalf("failure %d (the %dth from address %d) refused after %d failures for alice", n+1, j+1, i, n)
			}
			a.Fail()
			n++
		}
	}
	if _, wait := g.Begin("alice", "192.0.2.200"); wait == 0 {
		t.Fatalf("%d failures for alice from many addresses: a new address is not held back", n)
	}
	if a, wait := g.Begin("carol", "192.0.2.200"); wait != 0 {
		t.Fatalf("another user from a new address waits %s", wait)
	} else {
		a.Cancel()
	}
	a, wait = g.Begin("alice", "198.51.100.7")
	if wait != 0 {
		t.Fatalf("alice from the address she signed in from before waits %s", wait)
	}
	a.Succeed()
	// An hour after the last failure the per-username count has faded.
	clock.Add(failureMemory + time.Minute)
	if a, wait := g.Begin("alice", "192.0.2.200"); wait != 0 {
		t.Fatalf("an hour later alice from a new address still waits %s", wait)
	} else {
		a.Cancel()
	}
}
