package console

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/keyward/keyward/admin/webhooks"
	"github.com/keyward/keyward/store"
)

// auditBase is when the test logs begin: after every event the set-up
// writes, whose time-ordered ids also sort before the tests' ("z…").
var auditBase = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

type auditSpec struct {
	typ, actor, subject string
	data                string // JSON; "" for {}
}

// appendAudit stores events z000, z001, … one minute apart from
// auditBase and returns them in id order.
func appendAudit(t *testing.T, s store.AuditStore, specs ...auditSpec) []*store.AuditEvent {
	t.Helper()
	var out []*store.AuditEvent
	for i, sp := range specs {
		data := sp.data
		if data == "" {
			data = "{}"
		}
		e := &store.AuditEvent{ID: fmt.Sprintf("z%04d", i), Type: sp.typ, Actor: sp.actor, Subject: sp.subject,
			Data: []byte(data), CreatedAt: auditBase.Add(time.Duration(i) * time.Minute)}
		if err := s.AppendAudit(context.Background(), e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// auditRowIDs returns the data-id of each row of the audit table, in page
// order.
func auditRowIDs(t *testing.T, p consolePage) []string {
	t.Helper()
	var ids []string
	walkHTML(p.doc, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "tr" && htmlHasAttr(n, "data-id") {
			ids = append(ids, htmlAttr(n, "data-id"))
		}
	})
	return ids
}

// linkByID returns the href of the element with id, or "".
func (p consolePage) linkByID(id string) string {
	var href string
	walkHTML(p.doc, func(n *html.Node) {
		if n.Type == html.ElementNode && htmlAttr(n, "id") == id {
			href = htmlAttr(n, "href")
		}
	})
	return href
}

// inputValue returns the value attribute of the input named name.
func (p consolePage) inputValue(name string) string {
	var v string
	walkHTML(p.doc, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "input" && htmlAttr(n, "name") == name {
			v = htmlAttr(n, "value")
		}
	})
	return v
}

func zids(n ...int) []string {
	out := make([]string, 0, len(n))
	for _, i := range n {
		out = append(out, fmt.Sprintf("z%04d", i))
	}
	return out
}

// TestConsoleAuditFilter: the audit page is newest first; the filter form
// selects by type (exact or prefix), actor, subject and time; details are
// fields; pages and exports keep the filter; a bad filter is a 422 page
// that keeps what was typed.
func TestConsoleAuditFilter(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	b := e.setup("root", adminPassword)
	appendAudit(t, e.db,
		auditSpec{"client.created", "cli", "c1", `{"name":"Acme","grant_types":["client_credentials"],"public":false}`}, // z0000 at 00:00
		auditSpec{"client.secret_rotated", "user:u1", "c1", ""},                                                         // z0001 at 00:01
		auditSpec{"clients.imported", "cli", "c2", ""},                                                                  // z0002
		auditSpec{"api_key.created", "user:u1", "k1", `{"name":"ci <b>bot</b>","nested":{"a":1}}`},                      // z0003
		auditSpec{"client.deleted", "user:u2", "c1", ""},                                                                // z0004
		auditSpec{"user.created", "cli", "u9", `{"username":"eve","admin":true}`},                                       // z0005
	)
	p := b.get("/console/audit")
	p.want(http.StatusOK, "/console/audit")
	checkConsolePage(t, "audit page", p)
	if got := auditRowIDs(t, p); len(got) < 6 || !slices.Equal(got[:6], zids(5, 4, 3, 2, 1, 0)) {
		t.Fatalf("audit page rows %v, want newest first from z0005", got)
	}

	for _, tc := range []struct {
		name string
		q    url.Values
		want []string
	}{
		{"exact type", url.Values{"type": {"client.created"}}, zids(0)},
		{"type prefix", url.Values{"type": {"client.*"}}, zids(4, 1, 0)},
		{"actor", url.Values{"actor": {"user:u1"}}, zids(3, 1)},
		{"subject", url.Values{"subject": {"c1"}}, zids(4, 1, 0)},
		{"time range (datetime-local, UTC)", url.Values{"since": {"2030-01-01T00:01"}, "until": {"2030-01-01T00:04"}}, zids(3, 2, 1)},
		{"RFC 3339 with offset", url.Values{"since": {"2030-01-01T01:03:00+01:00"}}, zids(5, 4, 3)},
		{"oldest first", url.Values{"type": {"client.*"}, "order": {"asc"}}, zids(0, 1, 4)},
		{"together", url.Values{"type": {"client.*"}, "actor": {"user:u2"}, "subject": {"c1"}, "since": {"2030-01-01"}}, zids(4)},
		{"none", url.Values{"type": {"webhook.*"}}, nil},
	} {
		p := b.get("/console/audit?" + tc.q.Encode())
		p.want(http.StatusOK, "/console/audit")
		if got := auditRowIDs(t, p); !slices.Equal(got, tc.want) {
			t.Errorf("%s: rows %v, want %v", tc.name, got, tc.want)
		}
		// The form shows the filter again.
		if v := tc.q.Get("type"); p.inputValue("type") != v {
			t.Errorf("%s: type field %q, want %q", tc.name, p.inputValue("type"), v)
		}
		if tc.want == nil && !strings.Contains(p.body, "No events match this filter") {
			t.Errorf("%s: no empty-state message:\n%s", tc.name, p.body)
		}
	}
	// A time is shown again as a datetime-local input holds it, in UTC.
	if p := b.get("/console/audit?since=2030-01-01T01:03:00%2B01:00"); p.inputValue("since") != "2030-01-01T00:03:00" {
		t.Errorf("since field %q, want 2030-01-01T00:03:00", p.inputValue("since"))
	}

	// Details are fields: a key/value list, strings as they are, other
	// values as compact JSON, escaped.
	p = b.get("/console/audit?subject=k1")
	var dts, dds []string
	walkHTML(p.doc, func(n *html.Node) {
		if n.Type == html.ElementNode && (n.Data == "dt" || n.Data == "dd") && n.Parent != nil && htmlAttr(n.Parent, "class") == "fields" {
			if n.Data == "dt" {
				dts = append(dts, htmlText(n))
			} else {
				dds = append(dds, htmlText(n))
			}
		}
	})
	if !slices.Equal(dts, []string{"name", "nested"}) || !slices.Equal(dds, []string{"ci <b>bot</b>", `{"a":1}`}) {
		t.Errorf("details of z0003: keys %q values %q", dts, dds)
	}
	if strings.Contains(p.body, "<b>bot") {
		t.Errorf("details are not escaped")
	}
	p = b.get("/console/audit?subject=c1&type=client.created")
	if body := p.body; !strings.Contains(body, "<dt>grant_types</dt><dd>[&#34;client_credentials&#34;]</dd>") ||
		!strings.Contains(body, "<dt>public</dt><dd>false</dd>") || !strings.Contains(body, "<dt>name</dt><dd>Acme</dd>") {
		t.Errorf("details of z0000 are not fields:\n%s", body)
	}

	// Export links carry the filter.
	p = b.get("/console/audit?type=client.*&actor=user:u1")
	for id, format := range map[string]string{"export-jsonl": "jsonl", "export-csv": "csv"} {
		u, err := url.Parse(p.linkByID(id))
		if err != nil || u.Path != "/console/audit/export" || u.Query().Get("format") != format ||
			u.Query().Get("type") != "client.*" || u.Query().Get("actor") != "user:u1" || u.Query().Has("cursor") {
			t.Errorf("%s link %q", id, p.linkByID(id))
		}
	}

	// A bad filter: 422, the page says why and keeps what was typed.
	p = b.get("/console/audit?" + url.Values{"type": {"Client*"}, "actor": {"x\x01"}, "since": {"tomorrow"}, "order": {"up"}}.Encode())
	if p.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad filter: %d, want 422", p.status)
	}
	checkConsolePage(t, "audit page with a bad filter", p)
	for _, want := range []string{"Order:", "From:", "type:", "actor:"} {
		if !strings.Contains(p.byIDOrAlert(), want) {
			t.Errorf("bad filter: the alert does not name %q:\n%s", want, p.byIDOrAlert())
		}
	}
	if p.inputValue("type") != "Client*" || auditRowIDs(t, p) != nil {
		t.Errorf("bad filter: type field %q, rows %v", p.inputValue("type"), auditRowIDs(t, p))
	}
	for _, q := range []string{"until=2030-01-01&since=2030-01-02", "since=" + strings.Repeat("9", 100), "subject=%FF"} {
		if p := b.get("/console/audit?" + q); p.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422", q, p.status)
		}
	}
}

// byIDOrAlert returns the text of the page's alert.
func (p consolePage) byIDOrAlert() string {
	var s string
	walkHTML(p.doc, func(n *html.Node) {
		if n.Type == html.ElementNode && htmlAttr(n, "role") == "alert" {
			s = htmlText(n)
		}
	})
	return s
}

// TestConsoleAuditPages: the pager walks the filtered events newest first
// without a repeat or a gap, and each link keeps the filter.
func TestConsoleAuditPages(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	b := e.setup("root", adminPassword)
	var specs []auditSpec
	for i := range 130 {
		typ := "api_key.created"
		if i%4 == 0 {
			typ = "client.created"
		}
		specs = append(specs, auditSpec{typ: typ, actor: "cli", subject: fmt.Sprint("s", i)})
	}
	appendAudit(t, e.db, specs...)
	var want []string
	for i := 129; i >= 0; i-- {
		if i%4 != 0 {
			want = append(want, fmt.Sprintf("z%04d", i))
		}
	}
	var got []string
	path := "/console/audit?type=api_key.created&actor=cli"
	for pages := 0; path != ""; pages++ {
		if pages > 5 {
			t.Fatal("too many pages")
		}
		p := b.get(path)
		p.want(http.StatusOK, "/console/audit")
		got = append(got, auditRowIDs(t, p)...)
		if pages > 0 {
			first, _ := url.Parse(p.linkByID("first-page"))
			if first == nil || first.Query().Get("type") != "api_key.created" || first.Query().Get("actor") != "cli" || first.Query().Has("cursor") {
				t.Errorf("page %d: first-page link %q does not keep the filter", pages, p.linkByID("first-page"))
			}
		}
		path = p.linkByID("next-page")
		if path != "" {
			u, _ := url.Parse(path)
			if u.Query().Get("type") != "api_key.created" || u.Query().Get("actor") != "cli" || u.Query().Get("cursor") == "" {
				t.Fatalf("next-page link %q does not keep the filter", path)
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages hold %d rows %v…, want %d %v…", len(got), got[:min(5, len(got))], len(want), want[:5])
	}
}

// download fetches an export with the browser's session and returns the
// answer and its body.
func (b *consoleBrowser) download(path string) (*http.Response, []byte) {
	b.t.Helper()
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	return resp, body
}

// checkDownload wants a 200 attachment of media type mt named
// keyward-audit-….ext, kept out of caches.
func checkDownload(t *testing.T, name string, resp *http.Response, mt, ext string) {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d", name, resp.StatusCode)
	}
	if got, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || got != mt {
		t.Errorf("%s: Content-Type %q, want %s", name, resp.Header.Get("Content-Type"), mt)
	}
	disp, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
	if err != nil || disp != "attachment" || !strings.HasPrefix(params["filename"], "keyward-audit-") || !strings.HasSuffix(params["filename"], "."+ext) {
		t.Errorf("%s: Content-Disposition %q", name, resp.Header.Get("Content-Disposition"))
	}
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("%s: Cache-Control %q, X-Content-Type-Options %q", name, resp.Header.Get("Cache-Control"), resp.Header.Get("X-Content-Type-Options"))
	}
}

// readJSONL decodes a JSON Lines export.
func readJSONL(t *testing.T, body []byte) []webhooks.Event {
	t.Helper()
	var out []webhooks.Event
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev webhooks.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("JSON Lines line %q: %v", sc.Text(), err)
		}
		out = append(out, ev)
	}
	if len(body) > 0 && body[len(body)-1] != '\n' {
		t.Errorf("JSON Lines export does not end in a newline")
	}
	return out
}

// TestConsoleAuditExport: the exports hold exactly the filtered events,
// in the page's order, across many store pages; CSV cells that a
// spreadsheet would run are defused; a bad format or filter is a 422
// page, and without a session there is no export.
func TestConsoleAuditExport(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	b := e.setup("root", adminPassword)
	const n = 1203 // more than two store pages of 500
	var specs []auditSpec
	for i := range n - 5 {
		typ := "export.a"
		if i%3 == 0 {
			typ = "export.b"
		}
		specs = append(specs, auditSpec{typ: typ, actor: "cli", subject: fmt.Sprint("s", i), data: fmt.Sprintf(`{"i":%d,"note":"a, \"quoted\"\nline"}`, i)})
	}
	// Cells a spreadsheet would run as formulas.
	specs = append(specs,
		auditSpec{"export.a", "=HYPERLINK(\"https://evil.example\",\"x\")", "s", ""},
		auditSpec{"export.a", "+1+1", "-2", ""},
		auditSpec{"export.a", "@SUM(A1)", "\tTAB", ""},
		auditSpec{"export.a", "user:ok", "\r=1", ""},
		auditSpec{"export.a", "user:ok", "=1", `{"x":"=2"}`},
	)
	all := appendAudit(t, e.db, specs...)

	var wantA []*store.AuditEvent // export.a newest first
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Type == "export.a" {
			wantA = append(wantA, all[i])
		}
	}

	// JSON Lines: the events in the form of the admin API, newest first.
	resp, body := b.download("/console/audit/export?format=jsonl&type=export.a")
	checkDownload(t, "JSON Lines export", resp, "application/jsonl", "jsonl")
	evs := readJSONL(t, body)
	if len(evs) != len(wantA) {
		t.Fatalf("JSON Lines export: %d events, want %d", len(evs), len(wantA))
	}
	for i, ev := range evs {
		w := wantA[i]
		if ev.ID != w.ID || ev.Type != w.Type || ev.Actor != w.Actor || ev.Subject != w.Subject || !ev.CreatedAt.Equal(w.CreatedAt) || !jsonEqual(ev.Data, w.Data) {
			t.Fatalf("JSON Lines event %d: %+v, want %+v", i, ev, w)
		}
	}
	// Oldest first, and the other filters, apply too.
	_, body = b.download("/console/audit/export?format=jsonl&type=export.*&order=asc&since=2030-01-01T00:10&until=2030-01-01T00:13")
	if got := readJSONL(t, body); len(got) != 3 || got[0].ID != "z0010" || got[2].ID != "z0012" {
		t.Errorf("JSON Lines export of a time range: %+v", got)
	}

	// CSV: a header row, then the same events; formulas defused.
	resp, body = b.download("/console/audit/export?format=csv&type=export.a")
	checkDownload(t, "CSV export", resp, "text/csv", "csv")
	if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, "charset=utf-8") {
		t.Errorf("CSV Content-Type %q names no charset", ct)
	}
	records, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil {
		t.Fatalf("CSV export does not parse: %v", err)
	}
	if !slices.Equal(records[0], []string{"id", "created_at", "type", "actor", "subject", "data"}) {
		t.Fatalf("CSV header %q", records[0])
	}
	if len(records)-1 != len(wantA) {
		t.Fatalf("CSV export: %d rows, want %d", len(records)-1, len(wantA))
	}
	for i, rec := range records[1:] {
		w := wantA[i]
		at, err := time.Parse(time.RFC3339Nano, rec[1])
		if rec[0] != w.ID || err != nil || !at.Equal(w.CreatedAt) || rec[2] != w.Type {
			t.Fatalf("CSV row %d: %q, want %s at %s", i, rec, w.ID, w.CreatedAt)
		}
		for col, v := range map[int]string{3: w.Actor, 4: w.Subject} {
			want := v
			if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
				want = "'" + v
			}
			if rec[col] != want {
				t.Errorf("CSV row %d column %s: %q, want %q", i, records[0][col], rec[col], want)
			}
		}
		if !jsonEqual([]byte(rec[5]), w.Data) {
			t.Errorf("CSV row %d data %q, want %s", i, rec[5], w.Data)
		}
	}
	for _, rec := range records[1:] {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("CSV cell %q would run as a formula", cell)
			}
		}
	}

	// An export that selects nothing: CSV is the header alone, JSON Lines empty.
	resp, body = b.download("/console/audit/export?format=csv&type=nothing.here")
	checkDownload(t, "empty CSV export", resp, "text/csv", "csv")
	if string(body) != "id,created_at,type,actor,subject,data\n" {
		t.Errorf("empty CSV export %q", body)
	}
	if _, body = b.download("/console/audit/export?format=jsonl&type=nothing.here"); len(body) != 0 {
		t.Errorf("empty JSON Lines export %q", body)
	}

	// Bad requests are pages, never a file or a 500.
	for _, q := range []string{"format=xml", "", "format=csv&type=Bad*", "format=jsonl&since=never", "format=csv&order=sideways"} {
		p := b.get("/console/audit/export?" + q)
		if p.status != http.StatusUnprocessableEntity {
			t.Errorf("export?%s: %d, want 422", q, p.status)
			continue
		}
		checkConsolePage(t, "export?"+q, p)
	}
	// Without a session: to the sign-in page, no data.
	resp, err = e.newBrowser().noFollow().Get(e.url + "/console/audit/export?format=jsonl")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/login" {
		t.Errorf("export without a session: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

// failingAudit is a store whose ListAudit fails from the call after
// okCalls on, as a database lost in the middle of an export.
type failingAudit struct {
	store.Store
	okCalls atomic.Int32
	calls   atomic.Int32
}

func (f *failingAudit) ListAudit(ctx context.Context, af store.AuditFilter, p store.Page) ([]*store.AuditEvent, string, error) {
	if f.calls.Add(1) > f.okCalls.Load() {
		return nil, "", fmt.Errorf("%w: connection lost", store.ErrUnavailable)
	}
	return f.Store.ListAudit(ctx, af, p)
}

// TestConsoleAuditExportFails: a store failure before the first byte is a
// 503 page; one after it cuts the download, which then fails in the
// client instead of ending like a whole file.
func TestConsoleAuditExportFails(t *testing.T) {
	t.Parallel()
	failing := &failingAudit{}
	e := newConsoleEnvStore(t, func(s store.Store) store.Store { failing.Store = s; return failing })
	appendAudit(t, e.db, slices.Repeat([]auditSpec{{"bulk.x", "cli", "s", ""}}, 700)...)
	b := e.setup("root", adminPassword)

	// The first page fails: a 503 page with Retry-After.
	failing.calls.Store(0)
	p := b.get("/console/audit/export?format=csv")
	if p.status != http.StatusServiceUnavailable || p.header.Get("Retry-After") == "" {
		t.Errorf("export with the store down: %d, Retry-After %q; want 503", p.status, p.header.Get("Retry-After"))
	}
	// The second page fails: the client sees the download break.
	for _, format := range []string{"csv", "jsonl"} {
		failing.calls.Store(0)
		failing.okCalls.Store(1)
		resp, err := b.c.Get(e.url + "/console/audit/export?format=" + format)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s export cut short: status %d, %d bytes, read error %v; want an unexpected EOF", format, resp.StatusCode, len(body), err)
		}
		if lines := strings.Count(string(body), "\n"); lines < store.MaxPageLimit {
			t.Errorf("%s export cut short: %d lines before the cut, want the first page", format, lines)
		}
	}
}
