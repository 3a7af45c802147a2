package signing_test

import (
	"testing"
	"time"

	"github.com/keyward/keyward/keys/signing"
)

// TestNextRotation: the time NextRotation predicts is the first time at
// which maintenance rotates, with a long-published next key and with one
// published just now; Loaded is the snapshot, without a database call.
func TestNextRotation(t *testing.T) {
	const period = 30 * 24 * time.Hour
	clk := newClock()
	s := newService(t, openSQLite(t), signing.Config{Now: clk.Now, RotationPeriod: period, NextDwell: time.Hour})
	if s.Loaded() != nil {
		t.Fatal("Loaded before the first load")
	}
	bootstrap(t, s)
	if n := len(s.Loaded()); n != 6 {
		t.Fatalf("Loaded: %d keys; want an active and a next key for each of 3 algorithms", n)
	}
	start := clk.Now()
	at, ok := s.NextRotation(signing.RS256)
	if !ok || !at.Equal(start.Add(period)) {
		t.Fatalf("NextRotation = %s, %v; want %s", at, ok, start.Add(period))
	}
	if _, ok := s.NextRotation("HS256"); ok {
		t.Error("NextRotation of an algorithm without keys")
	}

	// rotatesAt checks that maintenance rotates alg's key at at, not before.
	rotatesAt := func(alg string, at time.Time) {
		t.Helper()
		kid := s.ActiveKID(alg)
		clk.Add(at.Sub(clk.Now()) - time.Millisecond)
		if err := s.Maintain(ctx()); err != nil {
			t.Fatal(err)
		}
		if s.ActiveKID(alg) != kid {
			t.Fatalf("%s rotated before %s", alg, at)
		}
		clk.Add(time.Millisecond)
		if err := s.Maintain(ctx()); err != nil {
			t.Fatal(err)
		}
		if s.ActiveKID(alg) == kid {
			t.Fatalf("%s not rotated at %s", alg, at)
		}
	}
	rotatesAt(signing.RS256, at)
	at, _ = s.NextRotation(signing.RS256)
	if !at.Equal(clk.Now().Add(period)) {
		t.Fatalf("after a rotation NextRotation = %s; want %s", at, clk.Now().Add(period))
	}

	// A next key published 10 minutes before the period ends holds the
	// rotation back until it has dwelt an hour.
	clk.Add(period - 10*time.Minute)
	if err := s.Revoke(ctx(), byState(t, s, signing.RS256, signing.StateNext)[0].KID); err != nil {
		t.Fatal(err)
	}
	at, _ = s.NextRotation(signing.RS256)
	if want := clk.Now().Add(time.Hour); !at.Equal(want) {
		t.Fatalf("with a fresh next key NextRotation = %s; want %s", at, want)
	}
	rotatesAt(signing.RS256, at)
}

func TestNextRotationOff(t *testing.T) {
	s := newService(t, openSQLite(t), signing.Config{Now: newClock().Now})
	bootstrap(t, s)
	if at, ok := s.NextRotation(signing.ES256); ok {
		t.Fatalf("NextRotation = %s with RotationPeriod 0", at)
	}
}
