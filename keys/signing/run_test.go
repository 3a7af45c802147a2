package signing_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/keys/signing"
)

// TestRun: the loop runs Maintain on its ticker (here a rotation made due
// by the clock) and reloads on notifications from another Service.
func TestRun(t *testing.T) {
	clk := newClock()
	db := openSQLite(t)
	cfg := signing.Config{Now: clk.Now, RotationPeriod: 24 * time.Hour, NextDwell: time.Hour,
		JWKSMaxAge: time.Minute, ReloadInterval: 10 * time.Millisecond}
	s := newService(t, db, cfg)
	bootstrap(t, s)
	c, cancel := context.WithCancel(ctx())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.Run(c) }()
	defer wg.Wait()
	defer cancel()

	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for start := time.Now(); !ok(); time.Sleep(5 * time.Millisecond) {
			if time.Since(start) > 5*time.Second {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	kid := s.ActiveKID(signing.ES256)
	clk.Add(24 * time.Hour)
	waitFor("the scheduled rotation", func() bool { return s.ActiveKID(signing.ES256) != kid })

	// Another Service on the same database rotates; s picks it up (from
	// the notification or the next tick; TestPostgresTwoInstances checks
	// notifications alone).
	other := newService(t, db, signing.Config{Now: clk.Now, Algorithms: []string{signing.EdDSA}})
	rec, err := other.Rotate(ctx(), signing.EdDSA, signing.RotateOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	waitFor("the reload", func() bool { return s.ActiveKID(signing.EdDSA) == rec.KID })
}
