//go:build reliability

// The reliability suite (make reliability; CI runs it after make test):
// two real keyward instances on a throwaway PostgreSQL cluster, 32 workers
// of mixed traffic, then the database stopped under load. Run it alone:
//
//	go test -tags reliability -run TestReliability -v ./cmd/keyward/
//
// KEYWARD_RELIABILITY_LOAD (60s), _OUTAGE (10s), _AFTER (5s) and _WORKERS
// (32) shorten or grow it for a local run; CI uses the defaults.

package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"
)

// reliabilityConfig is how long each phase lasts and how many workers
// send traffic.
type reliabilityConfig struct {
	load, outage, after time.Duration
	workers             int
}

// reliabilitySettings reads the phases from the environment; the defaults
// are the hardening issue's numbers.
func reliabilitySettings(t *testing.T) reliabilityConfig {
	t.Helper()
	c := reliabilityConfig{load: 60 * time.Second, outage: 10 * time.Second, after: 5 * time.Second, workers: 32}
	for name, d := range map[string]*time.Duration{"LOAD": &c.load, "OUTAGE": &c.outage, "AFTER": &c.after} {
		if v := os.Getenv("KEYWARD_RELIABILITY_" + name); v != "" {
			var err error
			if *d, err = time.ParseDuration(v); err != nil || *d <= 0 {
				t.Fatalf("KEYWARD_RELIABILITY_%s=%q: want a positive duration", name, v)
			}
		}
	}
	if v := os.Getenv("KEYWARD_RELIABILITY_WORKERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("KEYWARD_RELIABILITY_WORKERS=%q: want a positive number", v)
		}
		c.workers = n
	}
	return c
}

// TestReliability: under mixed load two instances answer everything right
// (no 5xx) and lose nothing; with the database stopped, every answer is
// still right (what the caches positively know) or 503 with Retry-After,
// never a negative answer, and none takes over 3 s; once the database is
// back, service is whole within 2 s and nothing written before is lost.
func TestReliability(t *testing.T) {
	cfg := reliabilitySettings(t)
	pg := newPGCluster(t)
	e := &env{t: t, dataDir: t.TempDir(), dbURL: pg.URL(), secret: "0123456789abcdef0123456789abcdef-reliability"}

	rs := e.newClient("--name", "resource server", "--grant-type", "client_credentials",
		"--grant-type", "urn:ietf:params:oauth:grant-type:token-exchange", "--scope", "read write")
	ops := e.newClient("--name", "ops", "--grant-type", "client_credentials", "--scope", "keyward:admin")
	var keys []string
	for i := range 16 + 8 {
		var k struct {
			Key string `json:"key"`
		}
		e.runJSON(&k, "", "apikeys", "create", "--name", fmt.Sprintf("key-%d", i), "--scope", "read write")
		keys = append(keys, k.Key)
	}
	keys, cold := keys[:16], keys[16:]
	serveArgs := []string{"--token-rate-limit", "-1"} // measure outages, not the rate limit
	a := newAuthCodeSetup(t, e, serveArgs...)
	other := e.serve(append([]string{"--issuer", a.s.PublicURL}, serveArgs...)...)
	rp := newRP(t, a.s, a.conf, "openid", "profile")
	b := newBrowser(t, a.s)
	chains := make([]string, cfg.workers)
	for w := range chains {
		tok, _, _, _ := rp.codeFlow(t, b, a.s, a.alice)
		chains[w] = tok.RefreshToken
	}
	adminToken := postForm(t, a.m.TokenEndpoint, url.Values{"grant_type": {"client_credentials"}}, ops.ClientID, ops.ClientSecret).str("access_token")
	tf := newTraffic([]*server{a.s, other}, rs, a.conf, keys, cold, adminToken, chains)
	t.Logf("setup: PostgreSQL cluster on port %d, instances %s and %s, %d workers, load %v, outage %v, after %v",
		pg.port, a.s.PublicURL, other.PublicURL, cfg.workers, cfg.load, cfg.outage, cfg.after)

	// Phase 1: mixed load, then everything issued is checked.
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.load)
	tf.run(ctx)
	cancel()
	elapsed := time.Since(start)
	load := tf.records()
	tl, bad := tally{}, []record(nil)
	for _, r := range load {
		tl.add(r)
		if !r.right {
			bad = append(bad, r)
		}
	}
	st := tl.statuses()
	t.Logf("load: %d requests in %v (%.0f/s), %d 5xx, %d wrong; by op and status:\n%s",
		len(load), elapsed.Round(time.Millisecond), float64(len(load))/elapsed.Seconds(), count5xx(st), len(bad), tl)
	if len(bad) > 0 {
		t.Errorf("load: %d wrong answers, e.g.:\n%s", len(bad), wrongs(bad, 20, start))
	}
	tf.checkState(t, "after the load", a.s, other)
	if t.Failed() {
		t.FailNow()
	}

	// Phase 2: the database stops under load and comes back.
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan struct{})
	defer func() { cancel(); <-done }()
	go func() { tf.run(ctx); close(done) }()
	time.Sleep(2 * time.Second) // warm again
	tf.short.Store(true)
	stopAt := time.Now()
	pg.stop()
	time.Sleep(cfg.outage - time.Since(stopAt))
	restartBegan := time.Now()
	pg.start()
	restartedAt := time.Now()
	time.Sleep(cfg.after)
	cancel()
	<-done
	tf.short.Store(false)
	outage := judgeOutage(tf.records(), stopAt, restartedAt)
	t.Logf("outage: database down %v (pg_ctl start took %v)", restartedAt.Sub(stopAt).Round(time.Millisecond),
		restartedAt.Sub(restartBegan).Round(time.Millisecond))
	outage.report(t, stopAt)
	tf.keys = append(tf.keys, tf.cold...)
	tf.checkState(t, "after the outage", a.s, other)
	// A new instance knows only what the database kept: nothing written
	// before the outage (revocations, rotations) may be lost.
	fresh := e.serve(append([]string{"--issuer", a.s.PublicURL}, serveArgs...)...)
	tf.checkState(t, "after the outage, on a new instance", fresh)
}

// count5xx is the number of answers with a 5xx status.
func count5xx(byStatus map[int]int) int {
	n := 0
	for st, c := range byStatus {
		if st >= 500 {
			n += c
		}
	}
	return n
}
