package signing_test

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store/postgres/pgtest"
)

// TestPostgresConcurrentUnforcedRotations: instances asking for a rotation
// at once, each as `keyward keys rotate` does, all succeed, and one
// rotation answers them all: the others would have promoted a key
// published moments ago.
func TestPostgresConcurrentUnforcedRotations(t *testing.T) {
	first, _ := rotateAtOnce(t, 5, signing.RotateOptions{})
	for _, alg := range signing.DefaultAlgorithms() {
		active := byState(t, first, alg, signing.StateActive)
		next := byState(t, first, alg, signing.StateNext)
		retiring := byState(t, first, alg, signing.StateRetiring)
		if len(active) != 1 || len(next) != 1 || len(retiring) != 1 {
			t.Fatalf("%s: %d active, %d next, %d retiring; want 1, 1, 1", alg, len(active), len(next), len(retiring))
		}
	}
}

// rotateAtOnce bootstraps a schema through a first Service, then has n
// more instances, each with its own pool and its keys loaded (as a
// serving instance has), call RotateAll at the same moment. It returns
// the first Service and the n others.
func rotateAtOnce(t *testing.T, n int, opt signing.RotateOptions) (*signing.Service, []*signing.Service) {
	t.Helper()
	u := pgURL(t)
	first := newService(t, openPostgres(t, u), signing.Config{})
	bootstrap(t, first)
	services := make([]*signing.Service, n)
	for i := range services {
		services[i] = newService(t, openPostgres(t, u), signing.Config{})
		if err := services[i].Reload(ctx()); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, s := range services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, err := s.RotateAll(ctx(), opt); err != nil {
				t.Error(err)
			}
		}()
	}
	close(start)
	wg.Wait()
	return first, services
}

// TestPostgresConcurrentRotations: eight instances, each with its own
// pool and Service, rotate every algorithm at once. Each rotation must
// see the one before it: one active and one next key per algorithm, and
// an unbroken chain of retiring keys.
func TestPostgresConcurrentRotations(t *testing.T) {
	const n = 8
	first, services := rotateAtOnce(t, n, signing.RotateOptions{Force: true})

	for _, alg := range signing.DefaultAlgorithms() {
		active := byState(t, first, alg, signing.StateActive)
		next := byState(t, first, alg, signing.StateNext)
		retiring := byState(t, first, alg, signing.StateRetiring)
		if len(active) != 1 || len(next) != 1 || len(retiring) != n {
			t.Fatalf("%s: %d active, %d next, %d retiring; want 1, 1, %d", alg, len(active), len(next), len(retiring), n)
		}
		// Each demotion happened in the transaction of one activation.
		activatedAt := map[time.Time]string{active[0].ActivatedAt: active[0].KID}
		for _, r := range retiring {
			if _, dup := activatedAt[r.ActivatedAt]; dup {
				t.Fatalf("%s: two keys activated at %v", alg, r.ActivatedAt)
			}
			activatedAt[r.ActivatedAt] = r.KID
		}
		for _, r := range retiring {
			successor, ok := activatedAt[r.RetiringAt]
			if !ok || successor == r.KID {
				t.Fatalf("%s: key %s retired at %v without a successor activated then", alg, r.KID, r.RetiringAt)
			}
		}
	}
	// Every instance converges on the same active keys.
	for _, s := range services {
		if err := s.Reload(ctx()); err != nil {
			t.Fatal(err)
		}
		for _, alg := range signing.DefaultAlgorithms() {
			if s.ActiveKID(alg) != byState(t, first, alg, signing.StateActive)[0].KID {
				t.Fatalf("an instance signs %s with a stale key", alg)
			}
		}
	}
}

// killStore terminates the database session of a transition inside its
// transaction, after the transition has been computed and before it is
// written, as if the process had died there.
type killStore struct {
	signing.Store
	t      *testing.T
	url    string
	schema string
}

func (k *killStore) UpdateSigningKeys(ctx context.Context, alg string, fn func([]*signing.Record) ([]*signing.Record, error)) error {
	return k.Store.UpdateSigningKeys(ctx, alg, func(keys []*signing.Record) ([]*signing.Record, error) {
		writes, err := fn(keys)
		if err != nil {
			return nil, err
		}
		// A separate, unpooled connection: find the session holding this
		// schema's lock on alg, and end it.
		conn, err := pgx.Connect(ctx, pgtest.BaseURL())
		if err != nil {
			k.t.Error(err)
			return nil, err
		}
		defer conn.Close(context.Background())
		var killed int
		err = conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_locks
			WHERE locktype = 'advisory' AND granted AND classid = $1 AND objsubid = 2
			AND objid::bigint = (hashtext($2 || '/' || $3)::bigint & 4294967295)`,
			0x6b77736b, k.schema, alg).Scan(&killed)
		if err != nil || killed != 1 {
			k.t.Errorf("terminated %d sessions: %v", killed, err)
		}
		return writes, nil
	})
}

func TestPostgresKilledMidRotation(t *testing.T) {
	u := pgURL(t)
	parsed, _ := url.Parse(u)
	db := openPostgres(t, u)
	s := newService(t, db, signing.Config{})
	bootstrap(t, s)
	before, err := s.List(ctx())
	if err != nil {
		t.Fatal(err)
	}
	ks := &killStore{Store: db, t: t, url: u, schema: parsed.Query().Get("search_path")}
	doomed, err := signing.New(ks, testSecret, db, signing.Config{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range signing.DefaultAlgorithms() {
		if _, err := doomed.Rotate(ctx(), alg, signing.RotateOptions{Force: true}); err == nil {
			t.Fatalf("%s: a rotation whose session was killed succeeded", alg)
		}
	}
	if err := doomed.Revoke(ctx(), s.ActiveKID(signing.ES256)); err == nil {
		t.Fatal("a revocation whose session was killed succeeded")
	}
	after, err := s.List(ctx())
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("%d keys after killed rotations; want %d", len(after), len(before))
	}
	for i := range before {
		if after[i].KID != before[i].KID || after[i].State != before[i].State {
			t.Fatalf("key %s is %s after a killed rotation; was %s", after[i].KID, after[i].State, before[i].State)
		}
	}
	// The pool recovered and the next rotation goes through.
	if _, err := s.RotateAll(ctx(), signing.RotateOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	for _, alg := range signing.DefaultAlgorithms() {
		if n := len(byState(t, s, alg, signing.StateActive)); n != 1 {
			t.Fatalf("%s: %d active keys", alg, n)
		}
	}
}

// TestPostgresTwoInstances: a rotation on one instance reaches the other
// through LISTEN/NOTIFY within a second, and tokens signed on either side
// of it verify on both.
func TestPostgresTwoInstances(t *testing.T) {
	u := pgURL(t)
	dbA, dbB := openPostgres(t, u), openPostgres(t, u)
	a := newService(t, dbA, signing.Config{})
	b := newService(t, dbB, signing.Config{})
	bootstrap(t, a)
	bootstrap(t, b)
	c, cancel := context.WithCancel(ctx())
	var wg sync.WaitGroup
	for _, s := range []*signing.Service{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); s.Run(c) }()
	}
	defer wg.Wait()
	defer cancel()

	// Wait until B's listener is LISTENing: it delivers our own probe.
	got := make(chan struct{}, 1)
	stop := dbB.Subscribe(signing.Channel, func(string) {
		select {
		case got <- struct{}{}:
		default:
		}
	})
	defer stop()
	deadline := time.Now().Add(10 * time.Second)
	for ready := false; !ready; {
		if time.Now().After(deadline) {
			t.Fatal("instance B never received a notification")
		}
		dbA.Notify(ctx(), signing.Channel, "probe")
		select {
		case <-got:
			ready = true
		case <-time.After(100 * time.Millisecond):
		}
	}

	old := sign(t, a, signing.ES256, map[string]any{"sub": "old"})
	if _, _, err := b.Verify(old); err != nil {
		t.Fatal(err)
	}
	rotated := time.Now()
	rec, err := a.Rotate(ctx(), signing.ES256, signing.RotateOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	for b.ActiveKID(signing.ES256) != rec.KID {
		if time.Since(rotated) > time.Second {
			t.Fatal("instance B did not see the rotation within a second")
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("instance B saw the rotation after %v", time.Since(rotated))
	fresh := sign(t, b, signing.ES256, map[string]any{"sub": "new"})
	for _, s := range []*signing.Service{a, b} {
		if _, kid, err := s.Verify(fresh); err != nil || kid != rec.KID {
			t.Fatalf("new token: %s %v", kid, err)
		}
		if _, _, err := s.Verify(old); err != nil {
			t.Fatalf("token from before the rotation: %v", err)
		}
	}
	// A revocation reaches B just as fast.
	if err := a.Revoke(ctx(), rec.KID); err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		if _, _, err := b.Verify(fresh); errors.Is(err, signing.ErrUnknownKey) {
			break
		}
		if time.Since(start) > time.Second {
			t.Fatal("instance B still accepts a revoked key's token")
		}
	}
}

// TestPostgresConcurrentBootstrap: instances starting together on an
// empty database create one active and one next key per algorithm.
func TestPostgresConcurrentBootstrap(t *testing.T) {
	u := pgURL(t)
	const n = 6
	services := make([]*signing.Service, n)
	for i := range services {
		services[i] = newService(t, openPostgres(t, u), signing.Config{})
		if err := services[i].Reload(ctx()); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for _, s := range services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Bootstrap(ctx()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	recs, err := services[0].List(ctx())
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2*len(signing.DefaultAlgorithms()) {
		t.Fatalf("%d keys after %d concurrent bootstraps; want %d", len(recs), n, 2*len(signing.DefaultAlgorithms()))
	}
	for _, s := range services {
		for _, alg := range signing.DefaultAlgorithms() {
			if s.ActiveKID(alg) != services[0].ActiveKID(alg) || s.ActiveKID(alg) == "" {
				t.Fatalf("%s: instances disagree on the active key", alg)
			}
		}
	}
}
