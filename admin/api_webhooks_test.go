package admin

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/authz/clients"
)

// hookReceiver is a webhook endpoint on loopback that refuses its first
// delivery (to exercise the retry) and records the rest.
type hookReceiver struct {
	mu       sync.Mutex
	attempts int
	got      []received
	arrived  chan struct{}
}

type received struct {
	header http.Header
	body   []byte
}

func newHookReceiver(t *testing.T) (*hookReceiver, string) {
	h := &hookReceiver{arrived: make(chan struct{}, 100)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.attempts++
		if h.attempts == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		h.got = append(h.got, received{r.Header.Clone(), b})
		h.arrived <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	return h, srv.URL + "/hook"
}

// wait returns the next delivery.
func (h *hookReceiver) wait(t *testing.T) received {
	t.Helper()
	select {
	case <-h.arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook delivery")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.got[len(h.got)-1]
}

func TestAPIWebhooks(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	recv, hookURL := newHookReceiver(t)

	for name, body := range map[string]map[string]any{
		"http to a remote host": {"url": "http://example.com/hook"},
		"ftp":                   {"url": "ftp://127.0.0.1/hook"},
		"credentials":           {"url": "https://user:pw@example.com/hook"},
		"no url":                {},
		"bad event type":        {"url": hookURL, "event_types": []string{"Client Created"}},
	} {
		if r := e.do(req{method: "POST", path: "/admin/v1/webhooks", body: body}); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}

	var hook webhookView
	e.call("POST", "/admin/v1/webhooks", map[string]any{"url": hookURL, "event_types": []string{"client.*"},
		"description": "ops"}, http.StatusCreated, &hook)
	if hook.ID == "" || len(hook.Secret) < 40 || !hook.Enabled {
		t.Fatalf("created: %+v", hook)
	}
	path := "/admin/v1/webhooks/" + hook.ID
	var got webhookView
	e.call("GET", path, nil, http.StatusOK, &got)
	if got.Secret != "" || got.URL != hookURL || got.EventTypes[0] != "client.*" {
		t.Fatalf("get: %+v", got)
	}

	// A user event is not selected; a client event is delivered, signed,
	// after one failed attempt.
	e.call("POST", "/admin/v1/users", map[string]any{"username": "zed", "password": "correct horse"}, http.StatusCreated, nil)
	var cl clients.View
	e.call("POST", "/admin/v1/clients", map[string]any{"client_name": "svc"}, http.StatusCreated, &cl)
	d := recv.wait(t)
	if err := VerifyWebhook(hook.Secret, d.header.Get(SignatureHeader), d.body, time.Now(), 5*time.Minute); err != nil {
		t.Fatalf("signature %q: %v", d.header.Get(SignatureHeader), err)
	}
	if err := VerifyWebhook("whsec_other", d.header.Get(SignatureHeader), d.body, time.Now(), 5*time.Minute); err == nil {
		t.Error("a wrong secret verifies")
	}
	if err := VerifyWebhook(hook.Secret, d.header.Get(SignatureHeader), d.body, time.Now().Add(time.Hour), 5*time.Minute); err == nil {
		t.Error("an old delivery verifies")
	}
	var ev auditEventView
	if err := json.Unmarshal(d.body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != "client.created" || ev.Subject != cl.ClientID || ev.Actor != "client:"+e.clientID ||
		d.header.Get("Keyward-Event") != "client.created" || d.header.Get("Content-Type") != "application/json" {
		t.Fatalf("delivery: %+v %v", ev, d.header)
	}
	recv.mu.Lock()
	if recv.attempts != 2 {
		t.Errorf("%d attempts, want 2 (one refused, one retry)", recv.attempts)
	}
	recv.mu.Unlock()

	// A new secret signs from now on.
	var rotated webhookView
	e.call("POST", path+"/rotate-secret", nil, http.StatusOK, &rotated)
	if rotated.Secret == "" || rotated.Secret == hook.Secret {
		t.Fatalf("rotate: %+v", rotated)
	}
	e.call("POST", "/admin/v1/clients/"+cl.ClientID+"/rotate-secret", nil, http.StatusOK, nil)
	d = recv.wait(t)
	if err := VerifyWebhook(rotated.Secret, d.header.Get(SignatureHeader), d.body, time.Now(), time.Minute); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if d.header.Get("Keyward-Event") != "client.secret_rotated" {
		t.Errorf("event %q", d.header.Get("Keyward-Event"))
	}

	// A disabled webhook gets nothing.
	e.call("PATCH", path, map[string]any{"enabled": false}, http.StatusOK, &got)
	if got.Enabled || got.Description != "ops" {
		t.Fatalf("patch: %+v", got)
	}
	e.call("DELETE", "/admin/v1/clients/"+cl.ClientID, nil, http.StatusNoContent, nil)
	select {
	case <-recv.arrived:
		t.Error("a disabled webhook got a delivery")
	case <-time.After(300 * time.Millisecond):
	}
	if r := e.do(req{method: "PATCH", path: path, body: map[string]any{"url": "http://10.0.0.1/x"}}); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("patch to a remote http URL: %d", r.Status)
	}

	var list listBody[webhookView]
	e.call("GET", "/admin/v1/webhooks", nil, http.StatusOK, &list)
	if len(list.Items) != 1 || list.Items[0].Secret != "" {
		t.Fatalf("list: %+v", list)
	}
	e.call("DELETE", path, nil, http.StatusNoContent, nil)
	if r := e.do(req{method: "GET", path: path}); r.Status != http.StatusNotFound {
		t.Errorf("get after delete: %d", r.Status)
	}
	recv.mu.Lock()
	defer recv.mu.Unlock()
	for _, d := range recv.got {
		if typ := d.header.Get("Keyward-Event"); typ != "client.created" && typ != "client.secret_rotated" {
			t.Errorf("unselected event %s delivered", typ)
		}
	}
}

func TestWebhookSelects(t *testing.T) {
	for _, tc := range []struct {
		types []string
		typ   string
		want  bool
	}{
		{nil, "client.created", true},
		{[]string{"*"}, "user.deleted", true},
		{[]string{"client.created"}, "client.created", true},
		{[]string{"client.created"}, "client.deleted", false},
		{[]string{"client.*"}, "client.secret_rotated", true},
		{[]string{"client.*"}, "clients.created", false},
		{[]string{"api_key.*", "user.created"}, "user.created", true},
	} {
		if got := selects(tc.types, tc.typ); got != tc.want {
			t.Errorf("selects(%q, %q) = %v", tc.types, tc.typ, got)
		}
	}
}
