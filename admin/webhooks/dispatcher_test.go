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
	st := authztest.New(t, authztest.Options{})
	db := st.DB
	d, err := New(Config{Store: db, Events: db, Secret: st.Secret, Logger: st.Logger,
		Backoff: []time.Duration{10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	st.Auditor.OnEvent = d.OnAuditEvent
	recv, url := admintest.NewHookReceiver(t)
	secret, sealed := d.NewSecret("hook-1")
	if !strings.HasPrefix(secret, "whsec_") || strings.Contains(string(sealed), secret) {
		t.Fatalf("NewSecret = %q, sealed %q", secret, sealed)
	}
	hook := &store.Webhook{ID: "hook-1", URL: url, EventTypes: []string{"client.*"}, Enabled: true, Secret: sealed}
	if err := db.CreateWebhook(ctx, hook); err != nil {
		t.Fatal(err)
	}
	// Queued before Run: delivered once it starts.
	record := func(typ, subject string) {
		t.Helper()
		if err := st.Auditor.Record(store.WithActor(ctx, "cli"), typ, subject, map[string]any{"name": "svc"}); err != nil {
			t.Fatal(err)
		}
	}
	record("user.created", "u1")
	record("client.created", "c1")
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { d.Run(runCtx); close(done) }()
	t.Cleanup(func() { stop(); <-done; d.Close() })

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
	d.Changed(ctx)
	record("client.deleted", "c1")
	select {
	case <-recv.Arrived:
		t.Error("a disabled webhook got a delivery")
	case <-time.After(300 * time.Millisecond):
	}
	if n := len(recv.Got()); n != 1 {
		t.Errorf("%d deliveries, want 1", n)
	}
}
