package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/keyward/keyward/admin/webhooks"
	"github.com/keyward/keyward/admin/webhooks/webhookstest"
)

// hookSink is a webhook receiver that answers 503 while down and counts,
// per webhook-id, the deliveries it accepted (after checking their
// Standard Webhooks signature).
type hookSink struct {
	t      *testing.T
	secret atomic.Value // string
	down   atomic.Bool
	mu     sync.Mutex
	ok     map[string]int // webhook-id → 2xx answers
	failed int            // 503 answers
	got    []webhookstest.Delivery
}

func newHookSink(t *testing.T) (*hookSink, string) {
	h := &hookSink{t: t, ok: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.down.Load() {
			h.failed++
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		secret, _ := h.secret.Load().(string)
		if err := webhooks.Verify(secret, r.Header.Get(webhooks.IDHeader), r.Header.Get(webhooks.TimestampHeader),
			r.Header.Get(webhooks.SignatureHeader), body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("delivery %s does not verify: %v", r.Header.Get(webhooks.IDHeader), err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		h.ok[r.Header.Get(webhooks.IDHeader)]++
		h.got = append(h.got, webhookstest.NewDelivery(secret, r.Header, body))
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return h, srv.URL + "/hook"
}

func (h *hookSink) accepted() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]int, len(h.ok))
	for k, v := range h.ok {
		out[k] = v
	}
	return out
}

// adminAPI calls /admin/v1 of s with a keyward:admin token of ops.
func adminAPI(t *testing.T, s *server, ops clientInfo) func(method, path string, body any, want int, out any) {
	cc := &clientcredentials.Config{ClientID: ops.ClientID, ClientSecret: ops.ClientSecret,
		TokenURL: s.PublicURL + "/oauth2/token", Scopes: []string{"keyward:admin"}}
	api := cc.Client(t.Context())
	return func(method, path string, body any, want int, out any) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequestWithContext(t.Context(), method, s.AdminURL+"/admin/v1"+path, rd)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := api.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, b)
		}
		if out != nil {
			if err := json.Unmarshal(b, out); err != nil {
				t.Fatalf("%s %s: %v: %s", method, path, err, b)
			}
		}
	}
}

// TestWebhooksSurviveRestart is issue 10's "done when": a receiver down
// while the server records events, stays down across a server restart
// and while the CLI (no server running) makes changes, then comes back:
// it receives every audit event recorded since the webhook was created,
// each webhook-id accepted exactly once, each verified by Keyward's
// Verify and by the official Standard Webhooks library (npm).
func TestWebhooksSurviveRestart(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		var ops clientInfo
		e.runJSON(&ops, "", "clients", "create", "--name", "ops", "--scope", "keyward:admin")
		sink, hookURL := newHookSink(t)
		s := e.serve()
		call := adminAPI(t, s, ops)
		var hook struct {
			ID, Secret string
		}
		sink.down.Store(true) // from the start: the webhook's own creation is an event too
		call("POST", "/webhooks", map[string]any{"url": hookURL}, http.StatusCreated, &hook)
		sink.secret.Store(hook.Secret)
		call("POST", "/apikeys", map[string]any{"name": "by the api"}, http.StatusCreated, nil)
		eventually(t, 10*time.Second, "a refused attempt in the delivery log", func() bool {
			var log struct{ Items []struct{ Attempts int } }
			call("GET", "/webhooks/"+hook.ID+"/deliveries", nil, http.StatusOK, &log)
			return len(log.Items) > 0 && log.Items[len(log.Items)-1].Attempts > 0
		})
		if code := s.stop(); code != 0 {
			t.Fatalf("serve exit %d", code)
		}
		// No server runs: the CLI's changes go to the outbox.
		var cli struct{ ID string }
		e.runJSON(&cli, "", "apikeys", "create", "--name", "by the cli")
		e.runJSON(&struct{}{}, "", "clients", "create", "--name", "made offline", "--grant-type", "client_credentials")

		s = e.serve()
		call = adminAPI(t, s, ops)
		e.runJSON(&struct{}{}, "", "apikeys", "revoke", cli.ID) // beside the running server
		sink.down.Store(false)

		// Every event since the webhook's own creation.
		var want []string
		cursor := ""
		for {
			var page struct {
				Items []struct {
					ID, Type string
				}
				NextCursor string `json:"next_cursor"`
			}
			call("GET", "/audit-events?limit=500&cursor="+cursor, nil, http.StatusOK, &page)
			for _, ev := range page.Items {
				if ev.Type == "webhook.created" || len(want) > 0 {
					want = append(want, ev.ID)
				}
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		if len(want) < 5 {
			t.Fatalf("only %d events to deliver", len(want))
		}
		took := eventually(t, 60*time.Second, "every event delivered", func() bool {
			got := sink.accepted()
			for _, id := range want {
				if got[id] == 0 {
					return false
				}
			}
			return true
		})
		t.Logf("%d events delivered %s after the receiver came back", len(want), took.Round(time.Millisecond))
		time.Sleep(300 * time.Millisecond)
		for id, n := range sink.accepted() {
			if n != 1 {
				t.Errorf("webhook-id %s accepted %d times", id, n)
			}
		}
		// And the official Standard Webhooks library agrees with every one.
		sink.mu.Lock()
		got := append([]webhookstest.Delivery(nil), sink.got...)
		sink.mu.Unlock()
		for i, r := range webhookstest.Official(t).Verify(t, got) {
			if !r.OK {
				t.Errorf("the official verifier refuses delivery %s: %s", got[i].Headers["Webhook-Id"], r.Error)
			}
		}
		var log struct {
			Items []struct {
				Status   string
				Attempts int
			}
		}
		call("GET", "/webhooks/"+hook.ID+"/deliveries?limit=500", nil, http.StatusOK, &log)
		retried := 0
		for _, d := range log.Items {
			if d.Status != "delivered" {
				t.Errorf("delivery %+v", d)
			}
			if d.Attempts > 1 {
				retried++
			}
		}
		if retried == 0 {
			t.Error("no delivery in the log shows its refused attempts")
		}
	})
}
