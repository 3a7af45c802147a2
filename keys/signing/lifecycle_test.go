package signing_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
)

func TestBootstrap(t *testing.T) {
	clk, audit := newClock(), &auditLog{}
	s := newService(t, openSQLite(t), signing.Config{Now: clk.Now, Auditor: audit})
	bootstrap(t, s)
	bootstrap(t, s) // idempotent
	for _, alg := range signing.DefaultAlgorithms() {
		act, next := byState(t, s, alg, signing.StateActive), byState(t, s, alg, signing.StateNext)
		if len(act) != 1 || len(next) != 1 {
			t.Fatalf("%s: %d active, %d next; want 1 and 1", alg, len(act), len(next))
		}
		if s.ActiveKID(alg) != act[0].KID {
			t.Errorf("%s: ActiveKID = %q, want %q", alg, s.ActiveKID(alg), act[0].KID)
		}
		if !act[0].ActivatedAt.Equal(clk.Now()) {
			t.Errorf("%s: activated at %v", alg, act[0].ActivatedAt)
		}
	}
	if s.ActiveKID("") != s.ActiveKID(signing.ES256) {
		t.Error("the default algorithm is not ES256")
	}
	if n := audit.count(signing.EventCreated); n != 6 {
		t.Errorf("%d created events; want 6", n)
	}
	if n := audit.count(signing.EventActivated); n != 3 {
		t.Errorf("%d activated events; want 3", n)
	}
}

// TestLifecycle follows one ES256 key from next to retired, with tokens
// signed along the way.
func TestLifecycle(t *testing.T) {
	clk, audit := newClock(), &auditLog{}
	cfg := signing.Config{Now: clk.Now, Auditor: audit, MaxTokenLifetime: 2 * time.Hour}
	s := newService(t, openSQLite(t), cfg)
	bootstrap(t, s)

	first := s.ActiveKID(signing.ES256)
	next := byState(t, s, signing.ES256, signing.StateNext)[0].KID
	old := sign(t, s, signing.ES256, map[string]any{"sub": "before"})

	clk.Add(time.Hour)
	rec, err := s.Rotate(ctx(), signing.ES256, signing.RotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rec.KID != next || rec.State != signing.StateActive || s.ActiveKID(signing.ES256) != next {
		t.Fatalf("Rotate made %s %s active; want the next key %s", rec.KID, rec.State, next)
	}
	retiring := byState(t, s, signing.ES256, signing.StateRetiring)
	if len(retiring) != 1 || retiring[0].KID != first {
		t.Fatalf("retiring = %v; want %s", retiring, first)
	}
	if want := clk.Now().Add(2 * time.Hour); !retiring[0].RetireAfter.Equal(want) {
		t.Errorf("retire after %v; want %v", retiring[0].RetireAfter, want)
	}
	if n := byState(t, s, signing.ES256, signing.StateNext); len(n) != 1 || n[0].KID == next {
		t.Fatalf("no new next key: %v", n)
	}

	// The old token still verifies; a new one carries the new kid.
	if _, kid, err := s.Verify(old); err != nil || kid != first {
		t.Fatalf("token from before the rotation: kid %s, %v", kid, err)
	}
	fresh := sign(t, s, signing.ES256, map[string]any{"sub": "after"})
	if _, kid, err := s.Verify(fresh); err != nil || kid != next {
		t.Fatalf("token from after the rotation: kid %s, %v", kid, err)
	}
	if !jwksHas(t, s, first) || !jwksHas(t, s, next) {
		t.Fatal("JWKS lacks the retiring or the active key")
	}

	// Not yet: the retiring key's tokens may still be alive.
	clk.Add(2*time.Hour - time.Second)
	if err := s.Maintain(ctx()); err != nil {
		t.Fatal(err)
	}
	if !jwksHas(t, s, first) {
		t.Fatal("retiring key unpublished before RetireAfter")
	}
	clk.Add(time.Second)
	if err := s.Maintain(ctx()); err != nil {
		t.Fatal(err)
	}
	if jwksHas(t, s, first) {
		t.Fatal("retired key still published")
	}
	if _, _, err := s.Verify(old); !errors.Is(err, signing.ErrUnknownKey) {
		t.Fatalf("token of a retired key: %v; want ErrUnknownKey", err)
	}
	r := byState(t, s, signing.ES256, signing.StateRetired)
	if len(r) != 1 || r[0].KID != first || !r[0].RetiredAt.Equal(clk.Now()) {
		t.Fatalf("retired = %+v", r)
	}
	for _, ev := range []string{signing.EventRetiring, signing.EventRetired} {
		if audit.count(ev) != 1 {
			t.Errorf("%d %s events; want 1", audit.count(ev), ev)
		}
	}
}

func TestScheduledRotation(t *testing.T) {
	const period = 30 * 24 * time.Hour
	clk := newClock()
	cfg := signing.Config{Now: clk.Now, RotationPeriod: period, NextDwell: time.Hour}
	s := newService(t, openSQLite(t), cfg)
	bootstrap(t, s)
	kid := s.ActiveKID(signing.RS256)

	maintain := func() {
		t.Helper()
		if err := s.Maintain(ctx()); err != nil {
			t.Fatal(err)
		}
	}
	clk.Add(period - time.Minute)
	maintain()
	if s.ActiveKID(signing.RS256) != kid {
		t.Fatal("rotated before the period")
	}
	clk.Add(time.Minute)
	maintain()
	second := s.ActiveKID(signing.RS256)
	if second == kid {
		t.Fatal("not rotated after the period")
	}
	for _, alg := range signing.DefaultAlgorithms() {
		if n := len(byState(t, s, alg, signing.StateRetiring)); n != 1 {
			t.Errorf("%s: %d retiring keys; want 1", alg, n)
		}
	}
	maintain()
	if s.ActiveKID(signing.RS256) != second {
		t.Fatal("rotated twice")
	}

	// The active key is due but the next key was only just published
	// (the previous one was revoked): the schedule waits for its dwell.
	es := s.ActiveKID(signing.ES256)
	clk.Add(period - 10*time.Minute)
	if err := s.Revoke(ctx(), byState(t, s, signing.RS256, signing.StateNext)[0].KID); err != nil {
		t.Fatal(err)
	}
	clk.Add(10 * time.Minute)
	maintain()
	if s.ActiveKID(signing.RS256) != second {
		t.Fatal("promoted a next key published for 10 minutes")
	}
	if s.ActiveKID(signing.ES256) == es {
		t.Fatal("ES256, whose next key is old enough, was not rotated")
	}
	clk.Add(50 * time.Minute)
	maintain()
	if s.ActiveKID(signing.RS256) == second {
		t.Fatal("not rotated once the next key had been published for the dwell time")
	}
}

func TestScheduledRotationOff(t *testing.T) {
	clk := newClock()
	s := newService(t, openSQLite(t), signing.Config{Now: clk.Now})
	bootstrap(t, s)
	kid := s.ActiveKID(signing.ES256)
	clk.Add(365 * 24 * time.Hour)
	if err := s.Maintain(ctx()); err != nil {
		t.Fatal(err)
	}
	if s.ActiveKID(signing.ES256) != kid {
		t.Fatal("rotated with RotationPeriod 0")
	}
}

// TestRotateWaitsForJWKSMaxAge: an on-demand rotation promotes only a next
// key that verifiers caching the JWKS have had the chance to see (or one
// published with the algorithm's first key); Force overrides that, and
// says so in the audit log.
func TestRotateWaitsForJWKSMaxAge(t *testing.T) {
	clk, audit := newClock(), &auditLog{}
	s := newService(t, openSQLite(t), signing.Config{Now: clk.Now, Auditor: audit, JWKSMaxAge: 15 * time.Minute})
	bootstrap(t, s)

	// The bootstrap's next key was in the very first JWKS: it may sign at once.
	clk.Add(time.Minute)
	first := byState(t, s, signing.ES256, signing.StateNext)[0]
	if rec, err := s.Rotate(ctx(), signing.ES256, signing.RotateOptions{}); err != nil || rec.KID != first.KID {
		t.Fatalf("first rotation of a fresh installation = %v, %v", rec, err)
	}
	active := s.ActiveKID(signing.ES256)
	next := byState(t, s, signing.ES256, signing.StateNext)[0]

	clk.Add(14 * time.Minute)
	_, err := s.Rotate(ctx(), signing.ES256, signing.RotateOptions{})
	var early *signing.TooEarlyError
	if !errors.Is(err, signing.ErrTooEarly) || !errors.As(err, &early) {
		t.Fatalf("Rotate 14m after publication: %v; want ErrTooEarly", err)
	}
	if early.KID != next.KID || !early.ReadyAt.Equal(next.CreatedAt.Add(15*time.Minute)) {
		t.Errorf("TooEarlyError = %+v; want kid %s ready at %v", early, next.KID, next.CreatedAt.Add(15*time.Minute))
	}
	if _, err := s.RotateAll(ctx(), signing.RotateOptions{}); !errors.Is(err, signing.ErrTooEarly) {
		t.Fatalf("RotateAll with one algorithm not ready: %v", err)
	}
	for _, alg := range []string{signing.RS256, signing.EdDSA} {
		if n := len(byState(t, s, alg, signing.StateRetiring)); n != 0 {
			t.Fatalf("%s: a refused RotateAll rotated it", alg)
		}
	}
	if s.ActiveKID(signing.ES256) != active || len(byState(t, s, signing.ES256, signing.StateRetiring)) != 1 {
		t.Fatal("a refused rotation changed the keys")
	}

	clk.Add(time.Minute)
	rec, err := s.Rotate(ctx(), signing.ES256, signing.RotateOptions{})
	if err != nil || rec.KID != next.KID {
		t.Fatalf("Rotate at the JWKS max-age = %v, %v; want %s active", rec, err, next.KID)
	}
	if audit.last(signing.EventActivated)["forced"] != nil {
		t.Error("an unforced rotation is audited as forced")
	}
	// A rotation asked for at the same moment (another admin, another
	// instance) is answered by this one: nothing changes.
	retiring := len(byState(t, s, signing.ES256, signing.StateRetiring))
	if again, err := s.Rotate(ctx(), signing.ES256, signing.RotateOptions{}); err != nil || again.KID != next.KID ||
		len(byState(t, s, signing.ES256, signing.StateRetiring)) != retiring {
		t.Fatalf("concurrent Rotate = %v, %v; want the same rotation", again, err)
	}
	// Seconds later the new next key is still young: only Force promotes it.
	clk.Add(10 * time.Second)
	if _, err := s.Rotate(ctx(), signing.ES256, signing.RotateOptions{}); !errors.Is(err, signing.ErrTooEarly) {
		t.Fatalf("second Rotate: %v; want ErrTooEarly", err)
	}
	forced, err := s.Rotate(ctx(), signing.ES256, signing.RotateOptions{Force: true})
	if err != nil || forced.KID == next.KID {
		t.Fatalf("forced Rotate = %v, %v", forced, err)
	}
	if audit.last(signing.EventActivated)["forced"] != true {
		t.Errorf("forced rotation audited as %v", audit.last(signing.EventActivated))
	}
}

func TestRotateWithoutNext(t *testing.T) {
	clk := newClock()
	s := newService(t, openSQLite(t), signing.Config{Now: clk.Now, Algorithms: []string{signing.ES256}})
	rec, err := s.Rotate(ctx(), signing.ES256, signing.RotateOptions{Force: true}) // empty database
	if err != nil {
		t.Fatal(err)
	}
	if s.ActiveKID(signing.ES256) != rec.KID {
		t.Fatalf("ActiveKID = %q; want %q", s.ActiveKID(signing.ES256), rec.KID)
	}
	if len(byState(t, s, signing.ES256, signing.StateNext)) != 1 {
		t.Fatal("no next key after rotation")
	}
	all, err := s.RotateAll(ctx(), signing.RotateOptions{Force: true})
	if err != nil || len(all) != 1 || all[0].KID == rec.KID {
		t.Fatalf("RotateAll = %v, %v", all, err)
	}
	if _, err := s.Rotate(ctx(), "HS256", signing.RotateOptions{Force: true}); err == nil {
		t.Fatal("rotating HS256 succeeded")
	}
}

func TestRevoke(t *testing.T) {
	clk, audit := newClock(), &auditLog{}
	s := newService(t, openSQLite(t), signing.Config{Now: clk.Now, Auditor: audit})
	bootstrap(t, s)
	active := s.ActiveKID(signing.ES256)
	next := byState(t, s, signing.ES256, signing.StateNext)[0].KID
	tok := sign(t, s, signing.ES256, map[string]any{"sub": "x"})

	if err := s.Revoke(ctx(), active); err != nil {
		t.Fatal(err)
	}
	if jwksHas(t, s, active) {
		t.Fatal("revoked key still published")
	}
	if _, _, err := s.Verify(tok); !errors.Is(err, signing.ErrUnknownKey) {
		t.Fatalf("token of a revoked key: %v; want ErrUnknownKey", err)
	}
	if s.ActiveKID(signing.ES256) != next {
		t.Fatalf("active = %s; want the next key %s promoted at once", s.ActiveKID(signing.ES256), next)
	}
	if len(byState(t, s, signing.ES256, signing.StateNext)) != 1 {
		t.Fatal("no new next key")
	}
	rec, err := s.List(ctx())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rec {
		if r.KID == active && (r.State != signing.StateRetired || r.RevokedAt.IsZero()) {
			t.Fatalf("revoked key: %+v", r)
		}
	}
	if err := s.Revoke(ctx(), active); err != nil {
		t.Fatalf("revoking again: %v", err)
	}
	if audit.count(signing.EventRevoked) != 1 {
		t.Fatalf("%d revoked events", audit.count(signing.EventRevoked))
	}
	if err := s.Revoke(ctx(), "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Revoke(unknown) = %v; want store.ErrNotFound", err)
	}
	// Revoking the next key replaces it, and the active key stays.
	next2 := byState(t, s, signing.ES256, signing.StateNext)[0].KID
	if err := s.Revoke(ctx(), next2); err != nil {
		t.Fatal(err)
	}
	if n := byState(t, s, signing.ES256, signing.StateNext); len(n) != 1 || n[0].KID == next2 || s.ActiveKID(signing.ES256) != next {
		t.Fatal("revoking the next key")
	}
}

func TestListJSON(t *testing.T) {
	s := newService(t, openSQLite(t), signing.Config{Now: newClock().Now, Algorithms: []string{signing.EdDSA}})
	bootstrap(t, s)
	recs, err := s.List(ctx())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(recs)
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	json.Unmarshal(b, &got)
	if len(got) != 2 {
		t.Fatalf("%s", b)
	}
	for _, m := range got {
		for _, k := range []string{"kid", "alg", "state", "created_at"} {
			if _, ok := m[k]; !ok {
				t.Errorf("list JSON lacks %q: %s", k, b)
			}
		}
		for _, k := range []string{"Sealed", "sealed", "private_key", "retired_at"} {
			if _, ok := m[k]; ok {
				t.Errorf("list JSON has %q: %s", k, b)
			}
		}
	}
}

func TestConfigValidation(t *testing.T) {
	for _, cfg := range []signing.Config{
		{Algorithms: []string{"HS256"}},
		{Algorithms: []string{"ES256", "ES256"}},
		{RotationPeriod: -1},
		{JWKSMaxAge: 2 * time.Hour, NextDwell: time.Hour},
		{RotationPeriod: time.Minute},
	} {
		if _, err := signing.New(openSQLite(t), testSecret, nil, cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
	if _, err := signing.New(openSQLite(t), testSecret[:10], nil, signing.Config{}); err == nil {
		t.Error("a short secret was accepted")
	}
}

func sign(t testing.TB, s *signing.Service, alg string, claims map[string]any) string {
	t.Helper()
	tok, err := s.SignClaims(ctx(), alg, claims, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func jwksHas(t testing.TB, s *signing.Service, kid string) bool {
	t.Helper()
	for _, k := range s.Public().Keys {
		if k.KeyID == kid {
			return true
		}
	}
	return false
}

// TestCheckSecret: a secret that opens the stored keys passes, another is
// ErrWrongSecret, and a database without keys accepts any secret.
func TestCheckSecret(t *testing.T) {
	db := openSQLite(t)
	right, wrong := testSecret, keys.Secret([]byte("another secret, also 32 bytes long"))
	if err := signing.CheckSecret(ctx(), db, wrong); err != nil {
		t.Fatalf("empty database: %v", err)
	}
	bootstrap(t, newService(t, db, signing.Config{Now: newClock().Now}))
	if err := signing.CheckSecret(ctx(), db, right); err != nil {
		t.Fatalf("the right secret: %v", err)
	}
	if err := signing.CheckSecret(ctx(), db, wrong); !errors.Is(err, signing.ErrWrongSecret) {
		t.Fatalf("another secret: %v, want ErrWrongSecret", err)
	}
}

// readHook is a store that runs once, after its next SigningKeys, what
// another instance does at that moment.
type readHook struct {
	engine
	mu   sync.Mutex
	then func()
}

func (h *readHook) SigningKeys(ctx context.Context) ([]*signing.Record, error) {
	recs, err := h.engine.SigningKeys(ctx)
	h.mu.Lock()
	then := h.then
	h.then = nil
	h.mu.Unlock()
	if then != nil {
		then()
	}
	return recs, err
}

// TestRotateAnsweredByCommitAfterAsked: an unforced rotation is answered
// by one that committed after it was asked for, even when that one's
// activation is stamped earlier: a rotation stamps when it reads the keys,
// before it commits, and on its own instance's clock. Here the other
// instance's clock is a second behind, which puts its stamp before the
// request as surely as a request arriving between the other's read and
// its commit would. The instance asked may have its keys loaded (as a
// serving instance has) or not.
func TestRotateAnsweredByCommitAfterAsked(t *testing.T) {
	for _, tc := range []struct {
		name        string
		all, loaded bool
	}{{"Rotate", false, false}, {"RotateAll", true, false}, {"Rotate/loaded", false, true}, {"RotateAll/loaded", true, true}} {
		all := tc.all
		t.Run(tc.name, func(t *testing.T) {
			db := openSQLite(t)
			clkA, clkB := newClock(), newClock()
			clkB.Add(time.Second)
			a := newService(t, db, signing.Config{Now: clkA.Now, Algorithms: []string{signing.ES256}})
			bootstrap(t, a)
			// Past the bootstrap, so that the next key a rotation
			// publishes is young.
			clkA.Add(time.Minute)
			clkB.Add(time.Minute)
			hook := &readHook{engine: db}
			b := newService(t, hook, signing.Config{Now: clkB.Now, Algorithms: []string{signing.ES256}})
			if tc.loaded {
				if err := b.Reload(ctx()); err != nil {
					t.Fatal(err)
				}
			}

			var other *signing.Record
			hook.then = func() {
				var err error
				if other, err = a.Rotate(ctx(), signing.ES256, signing.RotateOptions{}); err != nil {
					t.Errorf("the other instance's rotation: %v", err)
				}
			}
			var got *signing.Record
			var err error
			if all {
				var recs []*signing.Record
				if recs, err = b.RotateAll(ctx(), signing.RotateOptions{}); len(recs) == 1 {
					got = recs[0]
				}
			} else {
				got, err = b.Rotate(ctx(), signing.ES256, signing.RotateOptions{})
			}
			if err != nil || other == nil || got == nil || got.KID != other.KID {
				t.Fatalf("rotation asked for before the other committed = %s, %v; want the other's %s", kidOf(got), err, kidOf(other))
			}
			if n := len(byState(t, a, signing.ES256, signing.StateRetiring)); n != 1 {
				t.Fatalf("%d retiring keys; want 1 (one rotation for both)", n)
			}

			// Asked for after that commit, with the next key still young:
			// refused, whatever the clocks.
			clkA.Add(time.Second)
			clkB.Add(time.Second)
			if all {
				_, err = b.RotateAll(ctx(), signing.RotateOptions{})
			} else {
				_, err = b.Rotate(ctx(), signing.ES256, signing.RotateOptions{})
			}
			if !errors.Is(err, signing.ErrTooEarly) {
				t.Fatalf("rotation asked for after the other committed: %v; want ErrTooEarly", err)
			}
		})
	}
}

func kidOf(r *signing.Record) string {
	if r == nil {
		return "no key"
	}
	return r.KID
}
