package console

import (
	"context"
	"encoding/csv"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// TestBrowserConsoleAudit signs in to the console in Chromium at a phone
// viewport, opens the audit log (newest first, details as fields), fills
// in the filter form by event type and time and submits it, then reads
// the filtered table and downloads both exports by clicking their links.
func TestBrowserConsoleAudit(t *testing.T) {
	t.Parallel()
	browserCtx := startChromium(t)
	e := newConsoleEnv(t)
	e.user("root", adminPassword, true)
	appendAudit(t, e.db,
		auditSpec{"client.created", "cli", "c1", `{"name":"Acme","public":false}`}, // z0000 at 00:00
		auditSpec{"api_key.created", "user:u1", "k1", `{"name":"=ci"}`},            // z0001 at 00:01
		auditSpec{"client.secret_rotated", "user:u1", "c1", ""},                    // z0002 at 00:02
		auditSpec{"user.created", "cli", "u9", `{"username":"eve"}`},               // z0003 at 00:03
		auditSpec{"client.deleted", "=cmd|' /C calc'!A0", "c1", ""},                // z0004 at 00:04
		auditSpec{"clients.imported", "cli", "c2", ""},                             // z0005 at 00:05
		auditSpec{"client.created", "cli", "c3", `{"name":"Late"}`},                // z0006 at 00:06
	)

	tab, problems := openTab(t, browserCtx)
	tab, cancel := context.WithTimeout(tab, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(tab, chromedp.EmulateViewport(phoneWidth, phoneHeight,
		chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait, chromedp.EmulateScale(2))); err != nil {
		t.Fatal(err)
	}

	// Sign in.
	if err := chromedp.Do(tab, chromedp.Navigate(e.url+"/console/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "root"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), adminPassword)); err != nil {
		t.Fatalf("fill the sign-in form: %v", err)
	}
	if _, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(`form[action="/console/login"] button[type=submit]`))); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	if loc := browserLocation(t, tab); loc.Path != "/console/" {
		t.Fatalf("after sign-in at %s\n%s", loc, browserText(t, tab))
	}

	// The audit log, from the menu: newest first, details as fields.
	resp, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(`nav a[href="/console/audit"]`)))
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("open the audit log: %v", err)
	}
	rows := browserRows(t, tab)
	if len(rows) < 7 || !slices.Equal(rowIDs(rows[:7]), zids(6, 5, 4, 3, 2, 1, 0)) {
		t.Fatalf("audit log rows %v, want newest first from z0006", rowIDs(rows))
	}
	fields, err := chromedp.Run(tab, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('tr[data-id="z0000"] dl.fields > *')].map(n => n.tagName + ":" + n.textContent)`))
	if err != nil || !slices.Equal(fields, []string{"DT:name", "DD:Acme", "DT:public", "DD:false"}) {
		t.Errorf("details of z0000: %q, %v; want fields name=Acme, public=false", fields, err)
	}
	fitsPhone(t, tab, "audit log")

	// Filter by event type and time, in the form.
	if err := chromedp.Do(tab,
		chromedp.SendKeys(chromedp.CSS(`#f-type`), "client.*"),
		chromedp.SetValue(chromedp.CSS(`#f-since`), "2030-01-01T00:01"),
		chromedp.SetValue(chromedp.CSS(`#f-until`), "2030-01-01T00:06"),
	); err != nil {
		t.Fatalf("fill the filter form: %v", err)
	}
	resp, err = chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(`#apply-filter`)))
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("apply the filter: %v\n%s", err, browserText(t, tab))
	}
	loc := browserLocation(t, tab)
	if q := loc.Query(); loc.Path != "/console/audit" || q.Get("type") != "client.*" || q.Get("since") != "2030-01-01T00:01" {
		t.Errorf("filter went to %s", loc)
	}
	rows = browserRows(t, tab)
	if !slices.Equal(rowIDs(rows), zids(4, 2)) {
		t.Errorf("filtered rows %v, want [z0004 z0002]", rowIDs(rows))
	}
	for _, r := range rows {
		if !strings.HasPrefix(r.Type, "client.") {
			t.Errorf("row %s of type %s under filter client.*", r.ID, r.Type)
		}
	}
	// The form keeps the filter.
	if v, err := chromedp.Run(tab, chromedp.Value(chromedp.CSS(`#f-type`))); err != nil || v != "client.*" {
		t.Errorf("type field after filtering: %q, %v", v, err)
	}
	fitsPhone(t, tab, "filtered audit log")

	// Only the type, now: the time fields cleared in the form.
	if err := chromedp.Do(tab, chromedp.Clear(chromedp.CSS(`#f-since`)), chromedp.Clear(chromedp.CSS(`#f-until`))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(`#apply-filter`))); err != nil {
		t.Fatalf("apply the filter: %v", err)
	}
	if got := rowIDs(browserRows(t, tab)); !slices.Equal(got, zids(6, 4, 2, 0)) {
		t.Errorf("rows of type client.*: %v, want [z0006 z0004 z0002 z0000]", got)
	}

	// Both exports, by clicking their links: the filtered events, newest first.
	dir := t.TempDir()
	downloads := watchDownloads(t, tab, dir)
	csvFile := downloads.click(t, `#export-csv`)
	if !strings.HasPrefix(csvFile.name, "keyward-audit-") || !strings.HasSuffix(csvFile.name, ".csv") {
		t.Errorf("CSV download named %q", csvFile.name)
	}
	records, err := csv.NewReader(strings.NewReader(string(csvFile.body))).ReadAll()
	if err != nil || len(records) != 5 {
		t.Fatalf("CSV download: %d records, %v:\n%s", len(records), err, csvFile.body)
	}
	var ids []string
	for _, r := range records[1:] {
		ids = append(ids, r[0])
		if r[0] == "z0004" && r[3] != "'=cmd|' /C calc'!A0" {
			t.Errorf("CSV actor cell %q is not defused", r[3])
		}
	}
	if !slices.Equal(ids, zids(6, 4, 2, 0)) {
		t.Errorf("CSV rows %v, want [z0006 z0004 z0002 z0000]", ids)
	}
	jsonlFile := downloads.click(t, `#export-jsonl`)
	if !strings.HasSuffix(jsonlFile.name, ".jsonl") {
		t.Errorf("JSON Lines download named %q", jsonlFile.name)
	}
	ids = nil
	for _, ev := range readJSONL(t, jsonlFile.body) {
		ids = append(ids, ev.ID)
	}
	if !slices.Equal(ids, zids(6, 4, 2, 0)) {
		t.Errorf("JSON Lines events %v, want [z0006 z0004 z0002 z0000]", ids)
	}
	// Downloading left the page where it was.
	if loc := browserLocation(t, tab); loc.Path != "/console/audit" {
		t.Errorf("after the downloads the tab is at %s", loc)
	}

	for _, p := range problems() {
		t.Errorf("browser reported: %s", p)
	}
}

type browserRow struct{ ID, Type string }

func browserRows(t *testing.T, tab context.Context) []browserRow {
	t.Helper()
	rows, err := chromedp.Run(tab, chromedp.Evaluate[[]browserRow](
		`[...document.querySelectorAll('#audit-events tr[data-id]')].map(r => ({ID: r.dataset.id, Type: r.dataset.type}))`))
	if err != nil {
		t.Fatalf("read the audit rows: %v", err)
	}
	return rows
}

func rowIDs(rows []browserRow) []string {
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	return ids
}

// browserDownloads saves the tab's downloads in a directory and reports
// each finished one.
type browserDownloads struct {
	tab  context.Context
	dir  string
	mu   sync.Mutex
	name map[string]string // guid → suggested file name
	done chan string       // guids of finished downloads
}

type downloadedFile struct {
	name string
	body []byte
}

func watchDownloads(t *testing.T, tab context.Context, dir string) *browserDownloads {
	t.Helper()
	d := &browserDownloads{tab: tab, dir: dir, name: map[string]string{}, done: make(chan string, 4)}
	chromedp.ListenBrowser(tab, func(ev any) {
		switch ev := ev.(type) {
		case *browser.EventDownloadWillBegin:
			d.mu.Lock()
			d.name[ev.GUID] = ev.SuggestedFilename
			d.mu.Unlock()
		case *browser.EventDownloadProgress:
			if ev.State == browser.DownloadProgressStateCompleted || ev.State == browser.DownloadProgressStateCanceled {
				d.done <- ev.GUID
			}
		}
	})
	events := true
	if _, err := chromedp.CallBrowser(tab, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior:         browser.SetDownloadBehaviorBehaviorAllowAndName,
		BrowserContextID: chromedp.FromContext(tab).BrowserContextID,
		DownloadPath:     dir,
		EventsEnabled:    &events,
	}); err != nil {
		t.Fatalf("allow downloads: %v", err)
	}
	return d
}

// click clicks the link sel and returns the file it downloads.
func (d *browserDownloads) click(t *testing.T, sel string) downloadedFile {
	t.Helper()
	if err := chromedp.Do(d.tab, chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
	select {
	case guid := <-d.done:
		body, err := os.ReadFile(filepath.Join(d.dir, guid))
		if err != nil {
			t.Fatalf("download of %s: %v", sel, err)
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		return downloadedFile{name: d.name[guid], body: body}
	case <-d.tab.Done():
		t.Fatalf("no download from %s", sel)
	}
	return downloadedFile{}
}
