package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/keyward/keyward/admin/webhooks"
)

// pageHookReceiver is a webhook endpoint on loopback that answers as told
// and records every request.
type pageHookReceiver struct {
	url    string
	mu     sync.Mutex
	status int
	body   string
	got    []http.Header
	bodies [][]byte
}

func newPageHookReceiver(t *testing.T) *pageHookReceiver {
	h := &pageHookReceiver{status: http.StatusNoContent}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.got, h.bodies = append(h.got, r.Header.Clone()), append(h.bodies, b)
		w.WriteHeader(h.status)
		io.WriteString(w, h.body)
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL + "/hook"
	return h
}

func (h *pageHookReceiver) answer(status int, body string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.status, h.body = status, body
}

// verify checks the last request of webhook-id id that was answered 2xx
// against each secret.
func (h *pageHookReceiver) verify(t *testing.T, id string, secrets ...string) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := len(h.got) - 1; i >= 0; i-- {
		hd := h.got[i]
		if hd.Get(webhooks.IDHeader) != id {
			continue
		}
		for _, s := range secrets {
			if err := webhooks.Verify(s, id, hd.Get(webhooks.TimestampHeader), hd.Get(webhooks.SignatureHeader),
				h.bodies[i], time.Now(), 5*time.Minute); err != nil {
				t.Errorf("delivery %s does not verify with %s…: %v", id, s[:10], err)
			}
		}
		return
	}
	t.Errorf("the receiver never got %s", id)
}

// logRow is a row of the delivery log as the browser shows it.
type logRow struct {
	Status   string   `json:"status"`
	EventID  string   `json:"event"`
	Attempts []string `json:"attempts"`
	Text     string   `json:"text"`
}

const readLog = `[...document.querySelectorAll('tr[data-delivery]')].map(r => ({
	status: r.dataset.status,
	event: r.querySelector('input[name=event_id]').value,
	attempts: [...r.querySelectorAll('[data-attempt-status]')].map(a => a.dataset.attemptStatus),
	text: r.innerText}))`

// TestBrowserConsoleWebhooks drives the Webhooks pages in Chromium at a
// phone-sized viewport: an admin creates a webhook for a receiver on
// loopback and reads its secret once, sends a test event and sees it
// delivered, makes the receiver fail and sees the failed attempt with its
// status and answer, redelivers it, and rotates the secret with the
// default overlap, after which deliveries verify with both secrets.
func TestBrowserConsoleWebhooks(t *testing.T) {
	t.Parallel()
	browserCtx := startChromium(t)
	e := sqliteEnv(t)
	s := e.serve()
	recv := newPageHookReceiver(t)

	tab, problems := openTab(t, browserCtx)
	tab, cancel := context.WithTimeout(tab, 120*time.Second)
	defer cancel()
	shots := screenshotDir(t)
	if err := chromedp.Do(tab, chromedp.EmulateViewport(phoneWidth, phoneHeight,
		chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait, chromedp.EmulateScale(2))); err != nil {
		t.Fatal(err)
	}
	click := func(sel, wantPath string) {
		t.Helper()
		resp, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("click %s: %v", sel, err)
		}
		if loc := browserLocation(t, tab); resp.Status != http.StatusOK || loc.Path != wantPath {
			t.Fatalf("after clicking %s: %d at %s, want %s\n%s", sel, resp.Status, loc, wantPath, browserText(t, tab))
		}
		checkPageResponse(t, "after "+sel, resp)
	}
	// waitLog reloads the webhook page until ok accepts its delivery log.
	waitLog := func(page, what string, ok func([]logRow) bool) []logRow {
		t.Helper()
		deadline := time.Now().Add(40 * time.Second)
		for {
			if _, err := chromedp.Run(tab, chromedp.NavigateResponse(page)); err != nil {
				t.Fatalf("open %s: %v", page, err)
			}
			rows, err := chromedp.Run(tab, chromedp.Evaluate[[]logRow](readLog))
			if err != nil {
				t.Fatalf("read the delivery log: %v", err)
			}
			if ok(rows) {
				return rows
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not in the delivery log: %+v", what, rows)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}

	// Set up the first admin.
	if _, err := chromedp.Run(tab, chromedp.NavigateResponse(s.SetupURL)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tab,
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "root"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "correct horse battery staple"),
		chromedp.SendKeys(chromedp.CSS(`input[name=confirm]`), "correct horse battery staple"),
	); err != nil {
		t.Fatal(err)
	}
	click(`form[action="/console/setup"] button[type=submit]`, "/console/")

	// 1. Create a webhook from the menu; its secret is shown once.
	click(`nav a[href="/console/webhooks"]`, "/console/webhooks")
	checkPhoneLayout(t, tab, shots, "console-webhooks-empty")
	if err := chromedp.Do(tab,
		chromedp.SendKeys(chromedp.CSS(`#url`), recv.url),
		chromedp.SendKeys(chromedp.CSS(`#event_types`), "api_key.* client.created"),
		chromedp.SendKeys(chromedp.CSS(`#description`), "billing <prod>"),
	); err != nil {
		t.Fatal(err)
	}
	click(`#create`, "/console/reveal")
	secret := consoleText(t, tab, "#secret")
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("the page shows secret %q", secret)
	}
	if loc := browserLocation(t, tab); loc.RawQuery != "" {
		t.Errorf("the secret page has a query: %s", loc)
	}
	checkPhoneLayout(t, tab, shots, "console-webhook-secret")
	path, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector('#copied').getAttribute('href')`))
	if err != nil || !strings.HasPrefix(path, "/console/webhooks/") {
		t.Fatalf("the secret page leads to %q (%v)", path, err)
	}
	click(`#copied`, path)
	page := s.AdminURL + path
	resp, err := chromedp.Run(tab, chromedp.NavigateResponse(s.AdminURL+"/console/reveal"))
	if err != nil {
		t.Fatal(err)
	}
	if text := browserText(t, tab); resp.Status != http.StatusGone || strings.Contains(text, secret) {
		t.Errorf("second visit to the secret page: %d\n%s", resp.Status, text)
	}

	// 2. A test event is delivered, signed with that secret.
	if _, err := chromedp.Run(tab, chromedp.NavigateResponse(page)); err != nil {
		t.Fatal(err)
	}
	if text := browserText(t, tab); !strings.Contains(text, "billing <prod>") || !strings.Contains(text, recv.url) {
		t.Errorf("the webhook page does not show the webhook:\n%s", text)
	}
	click(`#send-test`, path)
	if text := browserText(t, tab); !strings.Contains(text, "A test event was queued") {
		t.Errorf("no notice after sending a test event:\n%s", text)
	}
	rows := waitLog(page, "the test event delivered", func(rows []logRow) bool {
		return len(rows) == 1 && rows[0].Status == "delivered"
	})
	if len(rows[0].Attempts) != 1 || rows[0].Attempts[0] != "204" || !strings.Contains(rows[0].Text, "delivered") {
		t.Errorf("delivered row: %+v", rows[0])
	}
	recv.verify(t, rows[0].EventID, secret)
	checkPhoneLayout(t, tab, shots, "console-webhook-delivered")

	// 3. The receiver fails: the failed attempt shows with its status and
	// its answer as text.
	recv.answer(http.StatusServiceUnavailable, "<i>down for maintenance</i>")
	click(`#send-test`, path)
	rows = waitLog(page, "a failed attempt", func(rows []logRow) bool {
		return len(rows) == 2 && len(rows[0].Attempts) > 0
	})
	failed := rows[0]
	if failed.Status != "pending" || failed.Attempts[0] != "503" || !strings.Contains(failed.Text, "HTTP 503") ||
		!strings.Contains(failed.Text, "<i>down for maintenance</i>") {
		t.Errorf("failed delivery: %+v", failed)
	}
	if text := consoleText(t, tab, "#failing-since"); !strings.Contains(text, "UTC") {
		t.Errorf("failing since: %q", text)
	}
	checkPhoneLayout(t, tab, shots, "console-webhook-failing")
	// The whole page too, for a person to look at.
	if png, err := chromedp.Run(tab, chromedp.FullScreenshot(100)); err == nil {
		_ = os.WriteFile(filepath.Join(shots, "console-webhook-failing-full.png"), png, 0o644)
	}

	// 4. It comes back; the failed event is redelivered on request.
	recv.answer(http.StatusOK, "ok")
	click(`tr[data-delivery] button.redeliver`, path)
	if text := browserText(t, tab); !strings.Contains(text, "Queued 1 delivery again") {
		t.Errorf("no notice after redelivery:\n%s", text)
	}
	rows = waitLog(page, "the redelivery delivered", func(rows []logRow) bool {
		return len(rows) == 3 && rows[0].Status == "delivered" && rows[1].Status == "delivered"
	})
	if rows[0].EventID != failed.EventID {
		t.Errorf("redelivered %s, want %s", rows[0].EventID, failed.EventID)
	}
	recv.verify(t, failed.EventID, secret)

	// 5. Rotate the secret with the default overlap (24h): the new secret is
	// shown once, and deliveries verify with both.
	if v, err := chromedp.Run(tab, chromedp.Value(chromedp.CSS(`#overlap`))); err != nil || v != "24h" {
		t.Errorf("default overlap %q, %v", v, err)
	}
	click(`#rotate-secret`, "/console/reveal")
	secret2 := consoleText(t, tab, "#secret")
	if !strings.HasPrefix(secret2, "whsec_") || secret2 == secret {
		t.Fatalf("after rotation the page shows %q", secret2)
	}
	if text := browserText(t, tab); !strings.Contains(text, "24h0m0s") {
		t.Errorf("the rotation does not name its overlap:\n%s", text)
	}
	click(`#copied`, path)
	if text := consoleText(t, tab, "#overlap-until"); !strings.Contains(text, "UTC") {
		t.Errorf("overlap shown as %q", text)
	}
	click(`#send-test`, path)
	rows = waitLog(page, "a test event after rotation", func(rows []logRow) bool {
		return len(rows) == 4 && rows[0].Status == "delivered"
	})
	recv.verify(t, rows[0].EventID, secret, secret2)

	for _, p := range problems() {
		if strings.HasSuffix(p.url, "/console/reveal") && strings.Contains(p.text, "status of 410") {
			continue
		}
		t.Errorf("browser reported: %s", p)
	}
}
