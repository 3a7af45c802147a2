package authz

import (
	"strconv"
	"testing"
	"time"
)

// TestAuthThrottleRecovers: a held-back pair waits exactly until its
// bucket has a token again, then gets one more failure free; the hold
// ends by itself, after which the check is one atomic load again.
func TestAuthThrottleRecovers(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	th := newAuthThrottle(func() time.Time { return now })
	pair := throttlePolicies[throttlePair]
	for i := range pair.burst {
		if w := th.fail("app", "192.0.2.1"); w != 0 {
			t.Fatalf("failure %d within the burst: wait %s", i+1, w)
		}
	}
	if th.idle() {
		t.Fatal("the pair's bucket is empty, but the throttle says nothing is held")
	}
	wait := th.hold("app", "192.0.2.1")
	if wait <= 0 || wait > pair.every {
		t.Fatalf("hold after the burst: %s, want (0, %s]", wait, pair.every)
	}
	if w := th.hold("app", "198.51.100.1"); w != 0 {
		t.Errorf("another address held for %s", w)
	}
	if w := th.hold("other-app", "192.0.2.1"); w != 0 {
		t.Errorf("another client at the address held for %s", w)
	}
	now = now.Add(wait)
	if w := th.hold("app", "192.0.2.1"); w != 0 {
		t.Fatalf("after Retry-After: still held for %s", w)
	}
	if !th.idle() {
		t.Error("the hold ended, but the fast path is not back")
	}
	if w := th.fail("app", "192.0.2.1"); w != 0 {
		t.Fatalf("the failure after the wait: %s", w)
	}
	if w := th.fail("app", "192.0.2.1"); w <= 0 {
		t.Fatal("a second failure right after the wait was not over the limit")
	}
}

// TestAuthThrottleClientID: failures for one client id spread over many
// addresses make further failures 429, but never hold the client back
// before its credentials are checked.
func TestAuthThrottleClientID(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	th := newAuthThrottle(func() time.Time { return now })
	over := false
	for i := range throttlePolicies[throttleClient].burst + 1 {
		if th.fail("app", "10.0.0."+strconv.Itoa(i)) > 0 {
			over = true
		}
	}
	if !over {
		t.Fatal("failures beyond the client id's budget were not answered 429")
	}
	if w := th.hold("app", "198.51.100.1"); w != 0 {
		t.Fatalf("the client is held back from a fresh address for %s", w)
	}
}

// BenchmarkAuthThrottleIdle is what a successful client authentication
// pays for the throttle while no address is held back.
func BenchmarkAuthThrottleIdle(b *testing.B) {
	th := newAuthThrottle(time.Now)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if !th.idle() {
				b.Fatal("held")
			}
		}
	})
}

// BenchmarkAuthThrottleHolding is what it pays while another address is
// held back: the read-locked lookup of its pair and address buckets.
func BenchmarkAuthThrottleHolding(b *testing.B) {
	th := newAuthThrottle(time.Now)
	for th.fail("app", "203.0.113.9") == 0 {
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if th.idle() || th.hold("app", "192.0.2.1") != 0 {
				b.Fatal("not holding, or holding the wrong address")
			}
		}
	})
}
