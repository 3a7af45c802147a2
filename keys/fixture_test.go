package keys

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/keys/clocktest"
)

// newClock is an injectable time source tests move by hand.
func newClock() *clocktest.Clock { return clocktest.At(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) }

// localEvents is an in-process Events.
type localEvents struct {
	mu   sync.Mutex
	subs []func(string)
}

func (l *localEvents) Notify(_ context.Context, _, payload string) error {
	l.mu.Lock()
	subs := append([]func(string){}, l.subs...)
	l.mu.Unlock()
	for _, fn := range subs {
		fn(payload)
	}
	return nil
}

func (l *localEvents) Subscribe(_ string, fn func(string)) func() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.subs = append(l.subs, fn)
	return func() {}
}

type recordedEvent struct{ typ, subject string }

type auditLog struct {
	mu     sync.Mutex
	events []recordedEvent
}

func (a *auditLog) Atomic(ctx context.Context, fn func(context.Context) error) error { return fn(ctx) }

func (a *auditLog) Record(_ context.Context, typ, subject string, data map[string]any) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, recordedEvent{typ, subject})
	return nil
}

func (a *auditLog) types() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, e := range a.events {
		out = append(out, e.typ)
	}
	return out
}

var testSecretKey = Secret(bytes.Repeat([]byte("s"), 32))

type fixture struct {
	svc   *Service
	store *memStore
	clock *clocktest.Clock
	audit *auditLog
	logs  *bytes.Buffer
}

func newFixture(t testing.TB, mod func(*Config)) *fixture {
	f := &fixture{store: newMemStore(), clock: newClock(), audit: &auditLog{}, logs: &bytes.Buffer{}}
	cfg := Config{
		Store: f.store, Secret: testSecretKey, Events: &localEvents{}, Auditor: f.audit,
		Logger: slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    f.clock.Now,
	}
	if mod != nil {
		mod(&cfg)
	}
	svc, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	f.svc = svc
	return f
}

func (f *fixture) create(t testing.TB, p CreateParams) (*APIKey, string) {
	t.Helper()
	if p.Name == "" {
		p.Name = "test"
	}
	k, raw, err := f.svc.Create(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return k, raw
}

func (f *fixture) verify(t testing.TB, raw, scope string) Result {
	t.Helper()
	r, err := f.svc.Verify(context.Background(), raw, scope)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func wantCode(t testing.TB, r Result, code Code) {
	t.Helper()
	if r.Code != code || r.Valid != (code == CodeValid) {
		t.Fatalf("got %s (valid %v), want %s", r.Code, r.Valid, code)
	}
}
