package admin

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/admin/internal/admintest"
	"github.com/keyward/keyward/admin/webhooks"
	"github.com/keyward/keyward/authz/clients"
)

func TestAPIWebhooks(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	recv, hookURL := admintest.NewHookReceiver(t)

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
	if hook.ID == "" || !hook.Enabled {
		t.Fatalf("created: %+v", hook)
	}
	// whsec_ and 32 random bytes in standard base64 (Standard Webhooks).
	if key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(hook.Secret, "whsec_")); err != nil ||
		len(key) != 32 || !strings.HasPrefix(hook.Secret, "whsec_") {
		t.Fatalf("secret %q: %d bytes, %v", hook.Secret, len(key), err)
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
	d := recv.Wait(t)
	if err := verifyDelivery(hook.Secret, d, time.Now()); err != nil {
		t.Fatalf("signature %v: %v", d.Header, err)
	}
	if err := verifyDelivery("whsec_b3RoZXIgc2VjcmV0", d, time.Now()); err == nil {
		t.Error("a wrong secret verifies")
	}
	if err := verifyDelivery(hook.Secret, d, time.Now().Add(time.Hour)); err == nil {
		t.Error("an old delivery verifies")
	}
	var ev webhooks.Event
	if err := json.Unmarshal(d.Body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != "client.created" || ev.Subject != cl.ClientID || ev.Actor != "client:"+e.clientID ||
		d.Header.Get(webhooks.IDHeader) != ev.ID || d.Header.Get(webhooks.EventHeader) != "client.created" ||
		d.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("delivery: %+v %v", ev, d.Header)
	}
	if n := recv.Attempts(); n != 2 {
		t.Errorf("%d attempts, want 2 (one refused, one retry)", n)
	}

	// A new secret signs from now on; the old one too for the overlap
	// (24h by default), so receivers switch without missing a delivery.
	var rotated webhookView
	e.call("POST", path+"/rotate-secret", nil, http.StatusOK, &rotated)
	if rotated.Secret == "" || rotated.Secret == hook.Secret || rotated.PreviousSecretUntil == nil ||
		time.Until(*rotated.PreviousSecretUntil) < 23*time.Hour {
		t.Fatalf("rotate: %+v", rotated)
	}
	e.call("POST", "/admin/v1/clients/"+cl.ClientID+"/rotate-secret", nil, http.StatusOK, nil)
	d = recv.Wait(t)
	if err := verifyDelivery(rotated.Secret, d, time.Now()); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if err := verifyDelivery(hook.Secret, d, time.Now()); err != nil {
		t.Errorf("the old secret does not verify during the overlap: %v", err)
	}
	if d.Header.Get(webhooks.EventHeader) != "client.secret_rotated" {
		t.Errorf("event %q", d.Header.Get(webhooks.EventHeader))
	}
	// Without an overlap, the old secret stops at once.
	for _, bad := range []any{map[string]any{"overlap": "-1h"}, map[string]any{"overlap": "90d"}, map[string]any{"overlap": "soon"}} {
		if r := e.do(req{method: "POST", path: path + "/rotate-secret", body: bad}); r.Status/100 != 4 {
			t.Errorf("rotate with %v: %d", bad, r.Status)
		}
	}
	var again webhookView
	e.call("POST", path+"/rotate-secret", map[string]any{"overlap": "0s"}, http.StatusOK, &again)
	if again.PreviousSecretUntil != nil {
		t.Errorf("previous_secret_until after a rotation without overlap: %v", again.PreviousSecretUntil)
	}
	e.call("POST", "/admin/v1/clients/"+cl.ClientID+"/rotate-secret", nil, http.StatusOK, nil)
	d = recv.Wait(t)
	if err := verifyDelivery(again.Secret, d, time.Now()); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if err := verifyDelivery(rotated.Secret, d, time.Now()); err == nil {
		t.Error("the old secret still verifies after a rotation without overlap")
	}

	// The delivery log: newest first, each attempt with its answer.
	var log listBody[deliveryView]
	e.call("GET", path+"/deliveries?limit=2", nil, http.StatusOK, &log)
	if len(log.Items) != 2 || log.NextCursor == "" || log.Items[0].ID < log.Items[1].ID {
		t.Fatalf("delivery log: %+v", log)
	}
	var oldest listBody[deliveryView]
	e.call("GET", path+"/deliveries?limit=2&cursor="+log.NextCursor, nil, http.StatusOK, &oldest)
	if len(oldest.Items) != 1 || oldest.Items[0].Status != "delivered" || oldest.Items[0].Attempts != 2 || oldest.Items[0].LastStatus != 200 {
		t.Fatalf("first delivery: %+v", oldest)
	}
	var one deliveryView
	e.call("GET", fmt.Sprintf("%s/deliveries/%d", path, oldest.Items[0].ID), nil, http.StatusOK, &one)
	if len(one.AttemptsLog) != 2 || one.AttemptsLog[0].StatusCode != 503 || one.AttemptsLog[0].Error != "status 503" ||
		one.AttemptsLog[1].StatusCode != 200 || one.AttemptsLog[1].LatencyMS <= 0 {
		t.Fatalf("attempts: %+v", one.AttemptsLog)
	}
	for _, p := range []string{path + "/deliveries/x", path + "/deliveries/999999", "/admin/v1/webhooks/nope/deliveries"} {
		if r := e.do(req{method: "GET", path: p}); r.Status != http.StatusNotFound {
			t.Errorf("GET %s: %d", p, r.Status)
		}
	}

	// Redeliver one event (the same webhook-id), or everything since a time.
	var queued struct{ Queued int }
	e.call("POST", path+"/redeliver", map[string]any{"event_id": one.EventID}, http.StatusAccepted, &queued)
	d = recv.Wait(t)
	if queued.Queued != 1 || d.Header.Get(webhooks.IDHeader) != one.EventID {
		t.Fatalf("redelivery: %+v, webhook-id %q", queued, d.Header.Get(webhooks.IDHeader))
	}
	e.call("POST", path+"/redeliver", map[string]any{"since": time.Now().Add(-time.Hour)}, http.StatusAccepted, &queued)
	// client.created, client.secret_rotated twice, and more client.* events
	// the client's calls caused.
	if queued.Queued < 3 {
		t.Fatalf("redelivery since an hour ago queued %d, want every client.* event", queued.Queued)
	}
	for range queued.Queued {
		if d := recv.Wait(t); !strings.HasPrefix(d.Header.Get(webhooks.EventHeader), "client.") {
			t.Fatalf("redelivered an unselected event %q", d.Header.Get(webhooks.EventHeader))
		}
	}
	for _, bad := range []any{map[string]any{}, map[string]any{"event_id": ""}, map[string]any{"event_id": "nope"},
		map[string]any{"event_id": one.EventID, "since": time.Now()}} {
		if r := e.do(req{method: "POST", path: path + "/redeliver", body: bad}); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("redeliver %v: %d", bad, r.Status)
		}
	}
	if r := e.do(req{method: "POST", path: path + "/redeliver", body: map[string]any{"since": "yesterday"}}); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("redeliver since a bad time: %d", r.Status)
	}
	if r := e.do(req{method: "POST", path: "/admin/v1/webhooks/nope/redeliver", body: map[string]any{"event_id": one.EventID}}); r.Status != http.StatusNotFound {
		t.Errorf("redeliver to a missing webhook: %d", r.Status)
	}

	// A test event goes to this webhook, whatever its event types.
	e.call("POST", path+"/test", nil, http.StatusAccepted, nil)
	d = recv.Wait(t)
	if d.Header.Get(webhooks.EventHeader) != "webhook.test" {
		t.Fatalf("test event: %q", d.Header.Get(webhooks.EventHeader))
	}

	// A disabled webhook gets nothing.
	e.call("PATCH", path, map[string]any{"enabled": false}, http.StatusOK, &got)
	if got.Enabled || got.Description != "ops" {
		t.Fatalf("patch: %+v", got)
	}
	e.call("DELETE", "/admin/v1/clients/"+cl.ClientID, nil, http.StatusNoContent, nil)
	select {
	case <-recv.Arrived:
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
	for _, d := range recv.Got() {
		if typ := d.Header.Get(webhooks.EventHeader); !strings.HasPrefix(typ, "client.") && typ != "webhook.test" {
			t.Errorf("unselected event %s delivered", typ)
		}
	}
}

// verifyDelivery checks d's Standard Webhooks headers with secret at now,
// with the official libraries' tolerance of 5 minutes.
func verifyDelivery(secret string, d admintest.Delivery, now time.Time) error {
	return webhooks.Verify(secret, d.Header.Get(webhooks.IDHeader), d.Header.Get(webhooks.TimestampHeader),
		d.Header.Get(webhooks.SignatureHeader), d.Body, now, 5*time.Minute)
}
