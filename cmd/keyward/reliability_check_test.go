//go:build reliability

package main

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// checkState checks on servers, with the traffic stopped, that everything
// the traffic was told it got is still so: every issued access token is
// active, every revoked one is not, every API key is valid, and every
// worker's current refresh token works (once: the chain moves on).
func (tf *traffic) checkState(t *testing.T, when string, servers ...*server) {
	t.Helper()
	ctx := context.Background()
	saved := tf.servers
	tf.servers = servers
	defer func() { tf.servers = saved }()
	tf.mu.Lock()
	issued, revoked := slices.Clone(tf.issued), slices.Clone(tf.revoked)
	tf.mu.Unlock()
	var (
		mu       sync.Mutex
		failures []string
	)
	fail := func(format string, a ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(format, a...))
		mu.Unlock()
	}
	parallel(len(issued), func(i int) {
		if a := tf.introspect(ctx, issued[i]); a.status != 200 || a.json["active"] != true {
			fail("issued access token %d: %d %s", i, a.status, describe(a))
		}
	})
	parallel(len(revoked), func(i int) {
		if a := tf.introspect(ctx, revoked[i]); a.status != 200 || a.json["active"] != false {
			fail("revoked access token %d: %d %s", i, a.status, describe(a))
		}
	})
	parallel(len(tf.keys), func(i int) {
		if a := tf.verify(ctx, tf.keys[i]); a.status != 200 || a.str("code") != "VALID" {
			fail("API key %d: %d %s", i, a.status, describe(a))
		}
	})
	parallel(len(tf.chains), func(w int) {
		a := tf.refresh(ctx, tf.chains[w])
		if a.status != 200 || a.str("refresh_token") == "" {
			fail("refresh chain %d: %d %s", w, a.status, describe(a))
			return
		}
		tf.chains[w] = a.str("refresh_token")
		if b := tf.introspect(ctx, a.str("access_token")); b.status != 200 || b.json["active"] != true {
			fail("refresh chain %d's new access token: %d %s", w, b.status, describe(b))
		}
	})
	t.Logf("%s: checked %d issued and %d revoked access tokens, %d API keys, %d refresh chains: %d wrong",
		when, len(issued), len(revoked), len(tf.keys), len(tf.chains), len(failures))
	if len(failures) > 0 {
		sort.Strings(failures)
		t.Errorf("%s: %d things written earlier are not as they were answered:\n%s", when, len(failures),
			strings.Join(failures[:min(len(failures), 20)], "\n"))
	}
}

// parallel runs fn(0..n-1) on 16 goroutines.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// tally counts answers by op and status.
type tally map[op]map[int]int

func (tl tally) add(r record) {
	if tl[r.op] == nil {
		tl[r.op] = map[int]int{}
	}
	tl[r.op][r.status]++
}

func (tl tally) String() string {
	var lines []string
	for o, byStatus := range tl {
		var parts []string
		for st, n := range byStatus {
			parts = append(parts, fmt.Sprintf("%d×%d", n, st))
		}
		sort.Strings(parts)
		lines = append(lines, fmt.Sprintf("  %-18s %s", o, strings.Join(parts, " ")))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// statuses counts answers by status alone.
func (tl tally) statuses() map[int]int {
	out := map[int]int{}
	for _, byStatus := range tl {
		for st, n := range byStatus {
			out[st] += n
		}
	}
	return out
}

// wrongs lists up to n wrong answers for a failure message.
func wrongs(rs []record, n int, origin time.Time) string {
	var lines []string
	for _, r := range rs {
		if len(lines) == n {
			break
		}
		lines = append(lines, fmt.Sprintf("  +%v %s: %d after %v: %s", r.start.Sub(origin).Round(time.Millisecond),
			r.op, r.status, r.end.Sub(r.start).Round(time.Millisecond), r.detail))
	}
	return strings.Join(lines, "\n")
}
