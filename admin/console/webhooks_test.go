package console

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/keyward/keyward/admin/webhooks"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store"
)

// hookReceiver is a webhook endpoint on loopback that answers what it is
// told to and records every request.
type hookReceiver struct {
	url    string
	mu     sync.Mutex
	status int
	body   string
	got    []receivedHook
}

type receivedHook struct {
	header http.Header
	body   []byte
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{status: http.StatusNoContent}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.got = append(h.got, receivedHook{r.Header.Clone(), b})
		w.WriteHeader(h.status)
		io.WriteString(w, h.body)
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL + "/hook"
	return h
}

func (h *hookReceiver) answer(status int, body string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.status, h.body = status, body
}

// received returns the requests that carried webhook-id id.
func (h *hookReceiver) received(id string) []receivedHook {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []receivedHook
	for _, r := range h.got {
		if r.header.Get(webhooks.IDHeader) == id {
			out = append(out, r)
		}
	}
	return out
}

// deliveryOnPage is a row of the delivery log.
type deliveryOnPage struct {
	id, status, eventID string
	attempts            []string // each attempt's HTTP status, oldest first
}

func (p consolePage) deliveries() []deliveryOnPage {
	var out []deliveryOnPage
	walkHTML(p.doc, func(n *html.Node) {
		if n.Type != html.ElementNode || n.Data != "tr" || !htmlHasAttr(n, "data-delivery") {
			return
		}
		d := deliveryOnPage{id: htmlAttr(n, "data-delivery"), status: htmlAttr(n, "data-status")}
		walkHTML(n, func(c *html.Node) {
			if c.Type == html.ElementNode && htmlHasAttr(c, "data-attempt-status") {
				d.attempts = append(d.attempts, htmlAttr(c, "data-attempt-status"))
			}
			if c.Type == html.ElementNode && c.Data == "input" && htmlAttr(c, "name") == "event_id" {
				d.eventID = htmlAttr(c, "value")
			}
		})
		out = append(out, d)
	})
	return out
}

// waitPage reloads path until ok accepts it.
func (b *consoleBrowser) waitPage(path, what string, ok func(consolePage) bool) consolePage {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p := b.get(path)
		p.want(http.StatusOK, "")
		if ok(p) {
			return p
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: not seen on %s:\n%s", what, path, p.body)
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// csrf returns the token of a form posting to action, as a page would
// hold it (for forms no page offers, such as one for a missing webhook).
func (e *consoleEnv) csrf(b *consoleBrowser, action string) string {
	u, _ := url.Parse(e.url + "/console/")
	for _, ck := range b.c.Jar.Cookies(u) {
		if ck.Name == consoleCSRFCookie {
			return mac(e.srv.csrfKey, "console-csrf", action, ck.Value)
		}
	}
	e.t.Fatal("no CSRF cookie")
	return ""
}

func TestConsoleWebhooks(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	ctx := context.Background()
	recv := newHookReceiver(t)

	resp, err := e.newBrowser().noFollow().Get(e.url + "/console/webhooks")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/login" {
		t.Fatalf("signed out: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	b := e.setup("root", adminPassword)
	root, err := e.db.GetUserByUsername(ctx, "root")
	if err != nil {
		t.Fatal(err)
	}
	if !b.get("/console/").hasLink("/console/webhooks") {
		t.Error("the menu does not link to the webhooks page")
	}
	p := b.get("/console/webhooks")
	p.want(http.StatusOK, "/console/webhooks")

	// Bad input comes back with the form as typed, each error beside its
	// field; nothing is created.
	p = b.submit(p, "/console/webhooks", url.Values{"url": {"http://example.com/hook"}, "event_types": {"Client Created"},
		"description": {"ops"}})
	p.want(http.StatusUnprocessableEntity, "/console/webhooks")
	if !strings.Contains(p.byID("url-error"), "loopback") || !strings.Contains(p.byID("event-types-error"), `"Client"`) {
		t.Errorf("field errors: url %q, event types %q", p.byID("url-error"), p.byID("event-types-error"))
	}
	if f := p.form("/console/webhooks"); f.Get("url") != "http://example.com/hook" || f.Get("event_types") != "Client Created" {
		t.Errorf("the form lost what was typed: %v", f)
	}
	if p.byID("description-error") != "" {
		t.Errorf("a description error for a good description: %q", p.byID("description-error"))
	}
	p = b.submit(p, "/console/webhooks", url.Values{"url": {"https://" + strings.Repeat("a", 5000)}})
	p.want(http.StatusBadRequest, "/console/webhooks")
	p = b.submit(b.get("/console/webhooks"), "/console/webhooks", url.Values{"url": {recv.url}, "description": {strings.Repeat("d", 501)}})
	p.want(http.StatusUnprocessableEntity, "/console/webhooks")
	if p.byID("description-error") == "" {
		t.Error("no error beside a too-long description")
	}
	if list, _, _ := e.db.ListWebhooks(ctx, store.Page{Limit: 10}); len(list) != 0 {
		t.Fatalf("bad forms created %d webhooks", len(list))
	}

	// Created: the secret is shown once, carried in no URL.
	p = b.submit(b.get("/console/webhooks"), "/console/webhooks", url.Values{"url": {recv.url},
		"event_types": {"api_key.*, client.created api_key.*"}, "description": {"<ops>"}})
	p.want(http.StatusOK, "/console/reveal")
	secret := p.byID("secret")
	if !strings.HasPrefix(secret, "whsec_") || p.url.RawQuery != "" {
		t.Fatalf("reveal page at %s shows %q", p.url, secret)
	}
	p2 := b.get("/console/reveal")
	if p2.status != http.StatusGone || strings.Contains(p2.body, secret) {
		t.Fatalf("second visit to the secret: %d", p2.status)
	}
	list, _, err := e.db.ListWebhooks(ctx, store.Page{Limit: 10})
	if err != nil || len(list) != 1 {
		t.Fatalf("webhooks: %v, %v", list, err)
	}
	w := list[0]
	if w.URL != recv.url || !slices.Equal(w.EventTypes, []string{"api_key.*", "client.created"}) || !w.Enabled || w.Description != "<ops>" {
		t.Fatalf("stored: %+v", w)
	}
	path := "/console/webhooks/" + w.ID
	if href := p.byID("copied"); href == "" || !p.hasLink(path) {
		t.Error("the secret page does not lead back to the webhook")
	}
	p = b.get("/console/webhooks")
	if !p.hasLink(path) || !strings.Contains(p.body, "&lt;ops&gt;") || strings.Contains(p.body, "<ops>") {
		t.Errorf("the list does not show the webhook, escaped:\n%s", p.body)
	}

	// A test event is delivered, signed with the secret shown.
	p = b.get(path)
	p.want(http.StatusOK, path)
	p = b.submit(p, path+"/test", nil)
	p.want(http.StatusOK, path)
	if !strings.Contains(p.body, "A test event was queued") {
		t.Errorf("no notice after the test event:\n%s", p.body)
	}
	p = b.waitPage(path, "a delivered test event", func(p consolePage) bool {
		ds := p.deliveries()
		return len(ds) == 1 && ds[0].status == "delivered" && slices.Equal(ds[0].attempts, []string{"204"})
	})
	first := p.deliveries()[0]
	got := recv.received(first.eventID)
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests of %s", len(got), first.eventID)
	}
	if err := webhooks.Verify(secret, first.eventID, got[0].header.Get(webhooks.TimestampHeader),
		got[0].header.Get(webhooks.SignatureHeader), got[0].body, time.Now(), time.Minute); err != nil {
		t.Fatalf("the test event does not verify with the secret shown: %v", err)
	}

	// The receiver fails: the failed attempt shows with its status and
	// its answer, escaped. The page reads the webhook before its
	// deliveries, so a load between the two reads can show the attempt
	// with the webhook not yet failing (the attempt and the webhook's
	// failing-since are one transaction): wait for both.
	recv.answer(http.StatusInternalServerError, "<b>nope</b>")
	p = b.submit(p, path+"/test", nil)
	p = b.waitPage(path, "a failed attempt", func(p consolePage) bool {
		ds := p.deliveries()
		return len(ds) == 2 && len(ds[0].attempts) > 0 && ds[0].attempts[0] == "500" &&
			strings.Contains(p.byID("failing-since"), "UTC")
	})
	failing := p.deliveries()[0]
	if failing.status != "pending" || !strings.Contains(p.body, "&lt;b&gt;nope&lt;/b&gt;") || strings.Contains(p.body, "<b>nope</b>") {
		t.Errorf("failed delivery %+v; response excerpt not shown escaped:\n%s", failing, p.body)
	}
	if !strings.Contains(p.byID("failing-since"), "UTC") {
		t.Errorf("failing since: %q", p.byID("failing-since"))
	}
	dp := b.get(path + "/deliveries/" + failing.id)
	dp.want(http.StatusOK, path+"/deliveries/"+failing.id)
	if !strings.Contains(dp.byID("attempts"), "500") || !strings.Contains(dp.body, "&lt;b&gt;nope&lt;/b&gt;") {
		t.Errorf("delivery page:\n%s", dp.body)
	}
	for _, bad := range []string{"x", "0", "-1", "99999999"} {
		b.get(path+"/deliveries/"+bad).want(http.StatusNotFound, "")
	}

	// The receiver recovers; that event is redelivered on request, with
	// the same webhook-id.
	recv.answer(http.StatusOK, "thanks")
	p = b.submit(p, path+"/redeliver", url.Values{"event_id": {failing.eventID}})
	p.want(http.StatusOK, path)
	if !strings.Contains(p.body, "Queued 1 delivery again") {
		t.Errorf("no notice after redelivery:\n%s", p.body)
	}
	b.waitPage(path, "the redelivery delivered", func(p consolePage) bool {
		ds := p.deliveries()
		return len(ds) == 3 && ds[0].eventID == failing.eventID && ds[0].status == "delivered" && ds[1].status == "delivered"
	})
	if n := len(recv.received(failing.eventID)); n < 3 {
		t.Errorf("the failed event reached the receiver %d times, want a failure, its retry and the redelivery", n)
	}

	// Everything since a time: both test events and a selected API-key
	// event, not the webhook's own events.
	if _, _, err := e.apikeys.Create(store.WithActor(ctx, "cli"), keys.CreateParams{Name: "ci"}); err != nil {
		t.Fatal(err)
	}
	since := w.CreatedAt.Add(-time.Minute).UTC().Format("2006-01-02T15:04")
	p = b.submit(b.get(path), path+"/redeliver", url.Values{"since": {since}, "event_id": nil})
	p.want(http.StatusOK, path)
	if !strings.Contains(p.body, "Queued 3 deliveries again") {
		t.Errorf("redeliver since %s:\n%s", since, p.body)
	}
	for name, v := range map[string]string{"not a time": "yesterday", "future": time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04"), "empty": ""} {
		p = b.submit(b.get(path), path+"/redeliver", url.Values{"since": {v}, "event_id": nil})
		p.want(http.StatusUnprocessableEntity, path+"/redeliver")
		if p.byID("since-error") == "" || (v != "" && !strings.Contains(p.body, `value="`+v+`"`)) {
			t.Errorf("%s: no error beside the field:\n%s", name, p.body)
		}
	}
	form := b.get(path).form(path + "/redeliver")
	form.Del("since")
	form.Set("event_id", "no-such-event")
	p = b.post(path+"/redeliver", form)
	p.want(http.StatusUnprocessableEntity, "")
	form.Del("event_id")
	b.post(path+"/redeliver", form).want(http.StatusUnprocessableEntity, "")

	// Edit: errors beside the fields; then disable, which stops test
	// events, and enable.
	p = b.submit(b.get(path), path, url.Values{"url": {"ftp://127.0.0.1/x"}, "event_types": {"*"}})
	p.want(http.StatusUnprocessableEntity, path)
	if p.byID("url-error") == "" || p.form(path).Get("url") != "ftp://127.0.0.1/x" {
		t.Errorf("edit errors:\n%s", p.body)
	}
	if cur, _ := e.db.GetWebhook(ctx, w.ID); cur.URL != recv.url {
		t.Fatalf("a bad edit changed the URL to %s", cur.URL)
	}
	p = b.submit(b.get(path), path, url.Values{"event_types": {"*"}, "description": {"all of it"}, "enabled": nil})
	p.want(http.StatusOK, path)
	cur, _ := e.db.GetWebhook(ctx, w.ID)
	if cur.Enabled || !slices.Equal(cur.EventTypes, []string{"*"}) || cur.Description != "all of it" || cur.URL != recv.url {
		t.Fatalf("after the edit: %+v", cur)
	}
	if !strings.Contains(p.byID("webhook-state"), "disabled") {
		t.Errorf("state shown: %q", p.byID("webhook-state"))
	}
	b.submit(p, path+"/test", nil).want(http.StatusUnprocessableEntity, path+"/test")
	p = b.submit(b.get(path), path, url.Values{"enabled": {"on"}})
	p.want(http.StatusOK, path)
	if cur, _ = e.db.GetWebhook(ctx, w.ID); !cur.Enabled {
		t.Fatal("not enabled again")
	}

	// Rotation with the default overlap: the new secret is shown once, and
	// deliveries carry signatures of both.
	rotated := time.Now()
	p = b.submit(b.get(path), path+"/rotate-secret", nil)
	p.want(http.StatusOK, "/console/reveal")
	secret2 := p.byID("secret")
	if !strings.HasPrefix(secret2, "whsec_") || secret2 == secret || !strings.Contains(p.body, "24h0m0s") {
		t.Fatalf("rotation shows %q:\n%s", secret2, p.body)
	}
	cur, _ = e.db.GetWebhook(ctx, w.ID)
	if d := cur.PreviousSecretUntil.Sub(rotated); d < 24*time.Hour-time.Minute || d > 24*time.Hour+time.Minute {
		t.Errorf("previous secret until %v, %v after the rotation", cur.PreviousSecretUntil, d)
	}
	p = b.get(path)
	if p.byID("overlap-until") == "" {
		t.Error("the overlap is not shown")
	}
	p = b.submit(p, path+"/test", nil)
	p = b.waitPage(path, "a test event after the rotation", func(p consolePage) bool {
		ds := p.deliveries()
		return len(ds) > 0 && ds[0].status == "delivered" && len(recv.received(ds[0].eventID)) > 0
	})
	h := recv.received(p.deliveries()[0].eventID)[0]
	sigs := h.header.Get(webhooks.SignatureHeader)
	for _, s := range []string{secret, secret2} {
		if err := webhooks.Verify(s, h.header.Get(webhooks.IDHeader), h.header.Get(webhooks.TimestampHeader), sigs, h.body, time.Now(), time.Minute); err != nil {
			t.Errorf("during the overlap a delivery does not verify with %s…: %v", s[:10], err)
		}
	}
	// Without overlap the previous secret stops at once; a bad overlap is
	// refused.
	p = b.submit(b.get(path), path+"/rotate-secret", url.Values{"overlap": {"0"}})
	p.want(http.StatusOK, "/console/reveal")
	if cur, _ = e.db.GetWebhook(ctx, w.ID); len(cur.PreviousSecret) != 0 {
		t.Error("a rotation without overlap kept the previous secret")
	}
	for _, bad := range []string{"forever", "31d", "-1h"} {
		b.submit(b.get(path), path+"/rotate-secret", url.Values{"overlap": {bad}}).want(http.StatusUnprocessableEntity, "")
	}

	// Forms need their token; a missing webhook is a 404 page.
	b.post(path+"/test", url.Values{"csrf_token": {"forged"}}).want(http.StatusForbidden, "")
	b.post(path+"/delete", url.Values{"csrf_token": {e.csrf(b, path+"/test")}}).want(http.StatusForbidden, "")
	b.get("/console/webhooks/no-such-hook").want(http.StatusNotFound, "")
	for _, action := range []string{"/test", "/rotate-secret", "/delete", "", "/redeliver"} {
		a := "/console/webhooks/no-such-hook" + action
		f := url.Values{"csrf_token": {e.csrf(b, a)}, "url": {recv.url}, "event_id": {"x"}}
		if p := b.post(a, f); p.status != http.StatusNotFound {
			t.Errorf("POST %s: %d", a, p.status)
		}
	}

	// Delete, after a confirmation.
	p = b.get(path + "/delete")
	p.want(http.StatusOK, path+"/delete")
	p = b.submit(p, path+"/delete", nil)
	p.want(http.StatusOK, "/console/webhooks")
	if _, err := e.db.GetWebhook(ctx, w.ID); err == nil {
		t.Fatal("not deleted")
	}
	b.get(path).want(http.StatusNotFound, path)

	// Every change was audited as the admin.
	events, _, err := e.db.ListAudit(ctx, store.AuditFilter{}, store.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, ev := range events {
		if ev.Subject == w.ID {
			if ev.Actor != "user:"+root.ID {
				t.Errorf("%s by %s", ev.Type, ev.Actor)
			}
			seen[ev.Type]++
		}
	}
	for typ, n := range map[string]int{"webhook.created": 1, "webhook.test": 3, "webhook.redelivery_requested": 2,
		"webhook.updated": 2, "webhook.secret_rotated": 2, "webhook.deleted": 1} {
		if seen[typ] != n {
			t.Errorf("%d %s events, want %d (all: %v)", seen[typ], typ, n, seen)
		}
	}
}

// TestConsoleWebhookDeliveryLogPages pages through a long delivery log,
// newest first.
func TestConsoleWebhookDeliveryLogPages(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	recv := newHookReceiver(t)
	b := e.setup("root", adminPassword)
	p := b.submit(b.get("/console/webhooks"), "/console/webhooks", url.Values{"url": {recv.url}})
	p.want(http.StatusOK, "/console/reveal")
	list, _, _ := e.db.ListWebhooks(context.Background(), store.Page{Limit: 1})
	path := "/console/webhooks/" + list[0].ID
	const n = deliveryPageSize + 5
	for range n {
		b.submit(b.get(path), path+"/test", nil).want(http.StatusOK, path)
	}
	p = b.waitPage(path, "every delivery made", func(p consolePage) bool {
		ds := p.deliveries()
		return len(ds) == deliveryPageSize && ds[0].status == "delivered"
	})
	ds := p.deliveries()
	id := func(d deliveryOnPage) int {
		n, err := strconv.Atoi(d.id)
		if err != nil {
			t.Fatalf("delivery id %q", d.id)
		}
		return n
	}
	for i := 1; i < len(ds); i++ {
		if id(ds[i-1]) <= id(ds[i]) {
			t.Fatalf("not newest first: %s before %s", ds[i-1].id, ds[i].id)
		}
	}
	var next string
	walkHTML(p.doc, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "a" && htmlAttr(n, "rel") == "next" {
			next = htmlAttr(n, "href")
		}
	})
	if !strings.HasPrefix(next, path+"?cursor=") {
		t.Fatalf("next page link %q", next)
	}
	p2 := b.get(next)
	p2.want(http.StatusOK, path)
	rest := p2.deliveries()
	// The webhook selects every event: its own webhook.created too.
	if len(rest) != n+1-deliveryPageSize || id(rest[0]) >= id(ds[len(ds)-1]) {
		t.Fatalf("second page: %+v", rest)
	}
	b.get(path+"?cursor="+url.QueryEscape("\x00bad")).want(http.StatusBadRequest, "")
}
