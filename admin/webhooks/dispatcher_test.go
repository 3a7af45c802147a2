package webhooks

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/admin/internal/admintest"
	"github.com/keyward/keyward/authz/authztest"
	"github.com/keyward/keyward/store"
)

// TestDispatcher delivers the audit events of a real server's services
// (authztest, on SQLite) to a receiver on loopback: selected events only,
// signed, retried once refused, and none to a webhook disabled since.
func TestDispatcher(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newHookFixture(t, "client.*")
	db, recv, hook, secret := f.st.DB, f.recv, f.hook, f.secret
	if !strings.HasPrefix(secret, "whsec_") || strings.Contains(string(hook.Secret), secret) {
		t.Fatalf("NewSecret = %q, sealed %q", secret, hook.Secret)
	}
	// Queued before Run: delivered once it starts.
	f.record(t, "user.created", "u1")
	f.record(t, "client.created", "c1")
	f.run(t)

	got := recv.Wait(t)
	if err := Verify(secret, got.Header.Get(IDHeader), got.Header.Get(TimestampHeader), got.Header.Get(SignatureHeader),
		got.Body, time.Now(), time.Minute); err != nil {
		t.Errorf("signature %v: %v", got.Header, err)
	}
	var ev Event
	if err := json.Unmarshal(got.Body, &ev); err != nil || ev.Type != "client.created" || ev.Actor != "cli" ||
		ev.Subject != "c1" || string(ev.Data) != `{"name":"svc"}` {
		t.Errorf("body %s: %+v, %v", got.Body, ev, err)
	}
	// This delivery is the retry; its webhook-id is still the event's.
	for h, v := range map[string]string{"Content-Type": "application/json", "User-Agent": "Keyward-Webhook/1",
		IDHeader: ev.ID, EventHeader: "client.created", "Keyward-Event-Id": ev.ID} {
		if got.Header.Get(h) != v {
			t.Errorf("%s = %q, want %q", h, got.Header.Get(h), v)
		}
	}
	if n := recv.Attempts(); n != 2 {
		t.Errorf("%d attempts, want 2 (one refused, one retry)", n)
	}

	// Disabled, and the cache told: nothing more arrives.
	hook.Enabled = false
	if err := db.UpdateWebhook(ctx, hook); err != nil {
		t.Fatal(err)
	}
	f.d.Changed(ctx)
	f.record(t, "client.deleted", "c1")
	select {
	case <-recv.Arrived:
		t.Error("a disabled webhook got a delivery")
	case <-time.After(300 * time.Millisecond):
	}
	if n := len(recv.Got()); n != 1 {
		t.Errorf("%d deliveries, want 1", n)
	}
}

// hookFixture is a Dispatcher on a real store (authztest, on SQLite) and
// one webhook, on a receiver on loopback that refuses its first delivery.
type hookFixture struct {
	st     *authztest.Stack
	d      *Dispatcher
	recv   *admintest.HookReceiver
	hook   *store.Webhook
	secret string // the hook's, as the API shows it
}

// newHookFixture registers a webhook for eventTypes; the Dispatcher
// retries after 10ms, and delivers nothing until run.
func newHookFixture(t *testing.T, eventTypes ...string) *hookFixture {
	t.Helper()
	st := authztest.New(t, authztest.Options{})
	d, err := New(Config{Store: st.DB, Events: st.DB, Secret: st.Secret, Logger: st.Logger,
		Backoff: []time.Duration{10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	st.Auditor.OnEvent = d.OnAuditEvent
	recv, url := admintest.NewHookReceiver(t)
	secret, sealed := d.NewSecret("hook-1")
	hook := &store.Webhook{ID: "hook-1", URL: url, EventTypes: eventTypes, Enabled: true, Secret: sealed}
	if err := st.DB.CreateWebhook(context.Background(), hook); err != nil {
		t.Fatal(err)
	}
	return &hookFixture{st: st, d: d, recv: recv, hook: hook, secret: secret}
}

// run runs the Dispatcher until the test ends.
func (f *hookFixture) run(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { f.d.Run(ctx); close(done) }()
	t.Cleanup(func() { stop(); <-done; f.d.Close() })
}

// record records an audit event by the CLI, with data {"name":"svc"}.
func (f *hookFixture) record(t *testing.T, typ, subject string) {
	t.Helper()
	ctx := store.WithActor(context.Background(), "cli")
	if err := f.st.Auditor.Record(ctx, typ, subject, map[string]any{"name": "svc"}); err != nil {
		t.Fatal(err)
	}
}
