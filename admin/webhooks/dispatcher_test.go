package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyward/keyward/authz/authztest"
	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/postgres/postgrestest"
)

// receiver is a webhook endpoint on loopback that answers 503 while down
// and records every request, in arrival order.
type receiver struct {
	mu   sync.Mutex
	all  []got // every request
	ok   []got // the ones answered 2xx
	down atomic.Bool
	// busy counts requests being served, to catch concurrent deliveries.
	busy, maxBusy atomic.Int32
	arrived       chan struct{}
}

type got struct {
	Header http.Header
	Body   []byte
}

func newReceiver(t *testing.T) (*receiver, string) {
	r := &receiver{arrived: make(chan struct{}, 10000)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		n := r.busy.Add(1)
		defer r.busy.Add(-1)
		for {
			m := r.maxBusy.Load()
			if n <= m || r.maxBusy.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(time.Millisecond) // widen the window for overlaps
		b, _ := io.ReadAll(req.Body)
		g := got{req.Header.Clone(), b}
		r.mu.Lock()
		defer r.mu.Unlock()
		r.all = append(r.all, g)
		if r.down.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		r.ok = append(r.ok, g)
		r.arrived <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	return r, srv.URL + "/hook"
}

// waitOK waits until n requests were answered 2xx.
func (r *receiver) waitOK(t *testing.T, n int) []got {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		r.mu.Lock()
		ok := append([]got(nil), r.ok...)
		r.mu.Unlock()
		if len(ok) >= n {
			return ok
		}
		select {
		case <-r.arrived:
		case <-deadline:
			t.Fatalf("%d deliveries arrived, want %d", len(ok), n)
		}
	}
}

func (r *receiver) requests() []got {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]got(nil), r.all...)
}

// fixture is a real server's services (authztest, on SQLite) with one
// webhook on a receiver.
type fixture struct {
	st     *authztest.Stack
	db     store.Store
	recv   *receiver
	hook   *store.Webhook
	secret string // the hook's, as the API shows it
}

func newFixture(t *testing.T, eventTypes ...string) *fixture {
	t.Helper()
	st := authztest.New(t, authztest.Options{})
	f := &fixture{st: st, db: st.DB}
	f.recv, f.hook, f.secret = addHook(t, f.newDispatcher(t, Config{}), st.DB, "hook-1", eventTypes...)
	return f
}

func addHook(t *testing.T, d *Dispatcher, db store.Store, id string, eventTypes ...string) (*receiver, *store.Webhook, string) {
	t.Helper()
	recv, url := newReceiver(t)
	secret, sealed := d.NewSecret(id)
	hook := &store.Webhook{ID: id, URL: url, EventTypes: eventTypes, Enabled: true, Secret: sealed}
	if err := db.CreateWebhook(context.Background(), hook); err != nil {
		t.Fatal(err)
	}
	return recv, hook, secret
}

// newDispatcher returns a Dispatcher on the fixture's store with fast
// polls and retries (cfg's non-zero fields win).
func (f *fixture) newDispatcher(t *testing.T, cfg Config) *Dispatcher {
	t.Helper()
	cfg.Store, cfg.Auditor, cfg.Secret, cfg.Logger = f.db, f.st.Auditor, f.st.Secret, f.st.Logger
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 20 * time.Millisecond
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff, cfg.MaxBackoff = 10*time.Millisecond, 40*time.Millisecond
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// run runs d until the test ends (or stop is called).
func run(t *testing.T, d *Dispatcher) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done; d.Close() }) }
	t.Cleanup(stop)
	return stop
}

// record records an audit event by the CLI, with data {"name":"svc"}.
func (f *fixture) record(t *testing.T, typ, subject string) {
	t.Helper()
	ctx := store.WithActor(context.Background(), "cli")
	if err := f.st.Auditor.Record(ctx, typ, subject, map[string]any{"name": "svc"}); err != nil {
		t.Fatal(err)
	}
}

// TestDispatcher delivers audit events recorded before the dispatcher
// ran (as by the CLI) to a receiver on loopback: selected events only,
// signed, retried after a refusal with the same webhook-id, every
// attempt in the delivery log, and nothing to a webhook disabled since.
func TestDispatcher(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, "client.*")
	if !strings.HasPrefix(f.secret, "whsec_") || strings.Contains(string(f.hook.Secret), f.secret) {
		t.Fatalf("NewSecret = %q, sealed %q", f.secret, f.hook.Secret)
	}
	f.recv.down.Store(true)
	f.record(t, "user.created", "u1")
	f.record(t, "client.created", "c1")
	d := f.newDispatcher(t, Config{})
	run(t, d)
	waitFor(t, func() bool { return len(f.recv.requests()) >= 2 })
	f.recv.down.Store(false)
	got := f.recv.waitOK(t, 1)[0]

	if err := Verify(f.secret, got.Header.Get(IDHeader), got.Header.Get(TimestampHeader), got.Header.Get(SignatureHeader),
		got.Body, time.Now(), time.Minute); err != nil {
		t.Errorf("signature %v: %v", got.Header, err)
	}
	var ev Event
	if err := json.Unmarshal(got.Body, &ev); err != nil || ev.Type != "client.created" || ev.Actor != "cli" ||
		ev.Subject != "c1" || string(ev.Data) != `{"name":"svc"}` {
		t.Errorf("body %s: %+v, %v", got.Body, ev, err)
	}
	for h, v := range map[string]string{"Content-Type": "application/json", "User-Agent": "Keyward-Webhook/1",
		IDHeader: ev.ID, EventHeader: "client.created", "Keyward-Event-Id": ev.ID} {
		if got.Header.Get(h) != v {
			t.Errorf("%s = %q, want %q", h, got.Header.Get(h), v)
		}
	}
	for _, r := range f.recv.requests() {
		if r.Header.Get(IDHeader) != ev.ID {
			t.Errorf("a retry changed webhook-id: %q", r.Header.Get(IDHeader))
		}
	}

	// The delivery log holds each attempt: refusals with their answer,
	// then the success.
	waitFor(t, func() bool {
		log, _, _ := f.db.ListDeliveries(ctx, f.hook.ID, store.Page{})
		return len(log) == 1 && log[0].Status != store.DeliveryPending
	})
	log, _, err := f.db.ListDeliveries(ctx, f.hook.ID, store.Page{})
	if err != nil || len(log) != 1 || log[0].Status != store.DeliveryDelivered || log[0].EventID != ev.ID {
		t.Fatalf("delivery log %+v, %v", log, err)
	}
	atts, err := f.db.ListAttempts(ctx, log[0].ID)
	if err != nil || len(atts) < 2 {
		t.Fatalf("attempts %+v, %v", atts, err)
	}
	first, last := atts[0], atts[len(atts)-1]
	if first.StatusCode != 503 || first.Error != "status 503" || !strings.Contains(first.Response, "down for maintenance") ||
		last.StatusCode != 200 || last.Error != "" || last.Latency <= 0 {
		t.Errorf("attempts: first %+v, last %+v", first, last)
	}
	if w, _ := f.db.GetWebhook(ctx, f.hook.ID); !w.FailingSince.IsZero() {
		t.Errorf("FailingSince after a success: %v", w.FailingSince)
	}

	// Disabled: nothing more arrives.
	f.hook.Enabled = false
	if err := f.db.UpdateWebhook(ctx, f.hook); err != nil {
		t.Fatal(err)
	}
	d.Changed(ctx)
	f.record(t, "client.deleted", "c1")
	time.Sleep(200 * time.Millisecond)
	if n := len(f.recv.waitOK(t, 1)); n != 1 {
		t.Errorf("%d deliveries, want 1", n)
	}
}

// TestOutageInOrder: a receiver down while events happen, and while the
// dispatcher restarts, gets every event afterwards, in order, each
// webhook-id answered 2xx exactly once.
func TestOutageInOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.recv.down.Store(true)
	stop := run(t, f.newDispatcher(t, Config{}))
	const n = 30
	for i := range n / 2 {
		f.record(t, "client.updated", fmt.Sprint(i))
	}
	waitFor(t, func() bool { return len(f.recv.requests()) >= 3 })
	stop() // a restart, with the receiver still down
	for i := n / 2; i < n; i++ {
		f.record(t, "client.updated", fmt.Sprint(i))
	}
	run(t, f.newDispatcher(t, Config{}))
	time.Sleep(100 * time.Millisecond)
	f.recv.down.Store(false)
	ok := f.recv.waitOK(t, n)
	time.Sleep(100 * time.Millisecond)
	ok = f.recv.waitOK(t, n)
	if len(ok) != n {
		t.Fatalf("%d deliveries answered 2xx, want %d (duplicates only after a failed attempt)", len(ok), n)
	}
	seen := map[string]bool{}
	for i, g := range ok {
		var ev Event
		if err := json.Unmarshal(g.Body, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Subject != fmt.Sprint(i) {
			t.Fatalf("delivery %d is event %s: out of order", i, ev.Subject)
		}
		if seen[g.Header.Get(IDHeader)] {
			t.Fatalf("webhook-id %s delivered twice", g.Header.Get(IDHeader))
		}
		seen[g.Header.Get(IDHeader)] = true
	}
	if st, err := f.db.OutboxStats(context.Background()); err != nil || st.Pending != 0 {
		t.Fatalf("outbox after delivery: %+v, %v", st, err)
	}
}

// TestLeases: three dispatchers (three instances) on one database never
// deliver to one webhook concurrently, and deliver each event once.
func TestLeases(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			f := &fixture{st: authztest.New(t, authztest.Options{})}
			f.db = f.st.DB
			if engine == "postgres" {
				db := postgrestest.Open(t)
				f.db = db
				f.st.Auditor = &store.Auditor{Store: db, NewID: f.st.Auditor.NewID, Now: time.Now}
			}
			ds := []*Dispatcher{}
			for range 3 {
				ds = append(ds, f.newDispatcher(t, Config{PollInterval: 5 * time.Millisecond}))
			}
			f.recv, f.hook, f.secret = addHook(t, ds[0], f.db, "hook-1")
			const n = 40
			for i := range n {
				f.record(t, "client.updated", fmt.Sprint(i))
			}
			for _, d := range ds {
				run(t, d)
			}
			ok := f.recv.waitOK(t, n)
			time.Sleep(100 * time.Millisecond)
			if got := len(f.recv.requests()); got != n {
				t.Fatalf("%d requests for %d events", got, n)
			}
			if m := f.recv.maxBusy.Load(); m != 1 {
				t.Fatalf("%d deliveries to one webhook at once", m)
			}
			for i, g := range ok {
				var ev Event
				_ = json.Unmarshal(g.Body, &ev)
				if ev.Subject != fmt.Sprint(i) {
					t.Fatalf("delivery %d is event %s: out of order", i, ev.Subject)
				}
			}
		})
	}
}

// TestGiveUpAndDisable: a delivery retried for RetryFor is marked failed
// and the next one goes on; a webhook whose attempts fail for
// DisableAfter is disabled, with a webhook.disabled audit event delivered
// to the others.
func TestGiveUpAndDisable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, "client.*")
	watcher, watch, _ := addHook(t, f.newDispatcher(t, Config{}), f.db, "watcher", "webhook.*")
	f.recv.down.Store(true)
	f.record(t, "client.created", "c1")
	f.record(t, "client.created", "c2")
	d := f.newDispatcher(t, Config{RetryFor: 300 * time.Millisecond, DisableAfter: 400 * time.Millisecond})
	run(t, d)
	waitFor(t, func() bool {
		log, _, _ := f.db.ListDeliveries(ctx, f.hook.ID, store.Page{})
		return len(log) == 2 && log[1].Status == store.DeliveryFailed
	})
	got := watcher.waitOK(t, 1)[0]
	var ev Event
	if err := json.Unmarshal(got.Body, &ev); err != nil || ev.Type != "webhook.disabled" || ev.Subject != f.hook.ID || ev.Actor != "system" {
		t.Fatalf("watcher got %s (%v)", got.Body, err)
	}
	var data map[string]any
	_ = json.Unmarshal(ev.Data, &data)
	if data["reason"] != "failing" || data["last_error"] != "status 503" {
		t.Errorf("webhook.disabled data %v", data)
	}
	if w, _ := f.db.GetWebhook(ctx, f.hook.ID); w.Enabled {
		t.Fatal("a webhook failing past DisableAfter is still enabled")
	}
	if w, _ := f.db.GetWebhook(ctx, watch.ID); !w.Enabled {
		t.Fatal("the healthy webhook was disabled")
	}
	// Enabled again (and the receiver back): a redelivery goes out.
	f.recv.down.Store(false)
	f.hook.Enabled = true
	if err := f.db.UpdateWebhook(ctx, f.hook); err != nil {
		t.Fatal(err)
	}
	log, _, _ := f.db.ListDeliveries(ctx, f.hook.ID, store.Page{})
	if _, err := f.db.Redeliver(ctx, f.hook.ID, log[1].EventID, time.Time{}); err != nil {
		t.Fatal(err)
	}
	d.Changed(ctx)
	f.recv.waitOK(t, 1)
}

// TestSecretOverlap: while a rotated secret overlaps, deliveries carry
// both signatures, and each secret verifies them.
func TestSecretOverlap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	d := f.newDispatcher(t, Config{})
	newSecret, sealed := d.NewSecret(f.hook.ID)
	f.hook.PreviousSecret, f.hook.PreviousSecretUntil = f.hook.Secret, time.Now().Add(time.Hour)
	f.hook.Secret = sealed
	if err := f.db.UpdateWebhook(ctx, f.hook); err != nil {
		t.Fatal(err)
	}
	f.record(t, "client.created", "c1")
	run(t, d)
	g := f.recv.waitOK(t, 1)[0]
	sigs := strings.Fields(g.Header.Get(SignatureHeader))
	if len(sigs) != 2 {
		t.Fatalf("webhook-signature %q: want two signatures", g.Header.Get(SignatureHeader))
	}
	for _, s := range []string{newSecret, f.secret} {
		if err := Verify(s, g.Header.Get(IDHeader), g.Header.Get(TimestampHeader), g.Header.Get(SignatureHeader), g.Body, time.Now(), time.Minute); err != nil {
			t.Errorf("secret %s…: %v", s[:10], err)
		}
	}
	// After the overlap, only the new one.
	f.hook.PreviousSecretUntil = time.Now().Add(-time.Second)
	if err := f.db.UpdateWebhook(ctx, f.hook); err != nil {
		t.Fatal(err)
	}
	f.record(t, "client.created", "c2")
	g = f.recv.waitOK(t, 2)[1]
	if err := Verify(f.secret, g.Header.Get(IDHeader), g.Header.Get(TimestampHeader), g.Header.Get(SignatureHeader), g.Body, time.Now(), time.Minute); err == nil {
		t.Error("the previous secret still verifies after its overlap")
	}
}

func TestBackoff(t *testing.T) {
	d := &Dispatcher{cfg: Config{MinBackoff: 5 * time.Second, MaxBackoff: 15 * time.Minute}}
	for n, max := range map[int]time.Duration{1: 5 * time.Second, 2: 10 * time.Second, 4: 40 * time.Second, 9: 15 * time.Minute, 80: 15 * time.Minute} {
		for range 50 {
			if b := d.backoff(n); b < max/2 || b > max {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", n, b, max/2, max)
			}
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 20s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
