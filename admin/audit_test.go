package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/admin/webhooks"
	"github.com/keyward/keyward/store"
)

// auditEventsPath is GET /audit-events with q, as a client would send it.
func auditEventsPath(q url.Values) string { return "/admin/v1/audit-events?" + q.Encode() }

// readAllEvents follows the Link header from path to the last page and
// returns the ids in the order they came.
func (e *apiEnv) readAllEvents(path string) []string {
	e.t.Helper()
	var ids []string
	for pages := 0; path != ""; pages++ {
		if pages > 50 {
			e.t.Fatalf("more than 50 pages from %s", path)
		}
		var page listBody[webhooks.Event]
		r := e.call("GET", path, nil, http.StatusOK, &page)
		for _, ev := range page.Items {
			ids = append(ids, ev.ID)
		}
		path = ""
		if m := linkNext.FindStringSubmatch(r.Header.Get("Link")); m != nil {
			path = m[1]
		} else if page.NextCursor != "" {
			e.t.Fatalf("next_cursor %q without a Link header", page.NextCursor)
		}
	}
	return ids
}

// TestAPIAuditEventFilters: order, type (exact and prefix), actor,
// subject, since and until select and order the events, alone and
// together, and the Link of each page keeps them.
func TestAPIAuditEventFilters(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	// A log in 2030, after every event the set-up wrote; ids sort after
	// theirs (time-ordered UUIDs start with 0).
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := []struct{ typ, actor, subject string }{
		{"client.created", "cli", "c1"},            // f0
		{"client.secret_rotated", "user:u1", "c1"}, // f1
		{"clients.imported", "cli", "c2"},          // f2
		{"api_key.created", "user:u1", "k1"},       // f3
		{"client.deleted", "user:u2", "c1"},        // f4
		{"user.created", "cli", "u9"},              // f5
		{"client.created", "user:u1", "c3"},        // f6
	}
	for i, r := range rows {
		ev := &store.AuditEvent{ID: fmt.Sprintf("f%d", i), Type: r.typ, Actor: r.actor, Subject: r.subject,
			Data: []byte(`{"i":` + fmt.Sprint(i) + `}`), CreatedAt: base.Add(time.Duration(i) * time.Hour)}
		if err := e.db.AppendAudit(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	since := base.Format(time.RFC3339)
	for _, tc := range []struct {
		name string
		q    url.Values
		want []string
	}{
		{"oldest first", url.Values{"since": {since}}, []string{"f0", "f1", "f2", "f3", "f4", "f5", "f6"}},
		{"order=asc", url.Values{"since": {since}, "order": {"asc"}}, []string{"f0", "f1", "f2", "f3", "f4", "f5", "f6"}},
		{"newest first", url.Values{"since": {since}, "order": {"desc"}}, []string{"f6", "f5", "f4", "f3", "f2", "f1", "f0"}},
		{"exact type", url.Values{"type": {"client.created"}, "since": {since}, "order": {"desc"}}, []string{"f6", "f0"}},
		{"type prefix", url.Values{"type": {"client.*"}, "since": {since}}, []string{"f0", "f1", "f4", "f6"}},
		{"actor", url.Values{"actor": {"user:u1"}, "order": {"desc"}}, []string{"f6", "f3", "f1"}},
		{"subject", url.Values{"subject": {"c1"}}, []string{"f0", "f1", "f4"}},
		{"since and until", url.Values{"since": {base.Add(2 * time.Hour).Format(time.RFC3339)},
			"until": {base.Add(4 * time.Hour).Format(time.RFC3339)}}, []string{"f2", "f3"}},
		{"offset and fraction", url.Values{"since": {"2030-01-01T04:59:59.5+01:00"}}, []string{"f4", "f5", "f6"}},
		{"all together", url.Values{"type": {"client.*"}, "actor": {"user:u1"}, "subject": {"c1"},
			"since": {since}, "until": {base.Add(5 * time.Hour).Format(time.RFC3339)}, "order": {"desc"}}, []string{"f1"}},
		{"nothing", url.Values{"type": {"webhook.*"}, "since": {since}}, nil},
	} {
		for _, limit := range []string{"1", "2", "500"} {
			q := url.Values{"limit": {limit}}
			for k, v := range tc.q {
				q[k] = v
			}
			if got := e.readAllEvents(auditEventsPath(q)); !slices.Equal(got, tc.want) {
				t.Errorf("%s (limit %s): %v, want %v", tc.name, limit, got, tc.want)
			}
		}
	}

	// The items are whole events, in the form webhooks deliver.
	var page listBody[webhooks.Event]
	e.call("GET", auditEventsPath(url.Values{"subject": {"u9"}}), nil, http.StatusOK, &page)
	if len(page.Items) != 1 {
		t.Fatalf("subject u9: %d events", len(page.Items))
	}
	if ev := page.Items[0]; ev.ID != "f5" || ev.Type != "user.created" || ev.Actor != "cli" ||
		!ev.CreatedAt.Equal(base.Add(5*time.Hour)) || string(ev.Data) != `{"i":5}` {
		t.Errorf("event %+v (data %s)", ev, ev.Data)
	}

	// A change made through the API is the newest event of its type, by
	// the calling client.
	var cl struct {
		ClientID string `json:"client_id"`
	}
	e.call("POST", "/admin/v1/clients", map[string]any{"client_name": "filtered"}, http.StatusCreated, &cl)
	page = listBody[webhooks.Event]{}
	e.call("GET", auditEventsPath(url.Values{"type": {"client.created"}, "actor": {"client:" + e.clientID},
		"order": {"desc"}, "limit": {"1"}}), nil, http.StatusOK, &page)
	if len(page.Items) != 1 || page.Items[0].Subject != cl.ClientID {
		t.Errorf("newest client.created by the caller: %+v, want subject %s", page.Items, cl.ClientID)
	}
}

// TestAPIAuditEventFiltersInvalid: a bad filter is a 422 validation
// problem naming every bad parameter; limit and cursor keep their 400.
func TestAPIAuditEventFiltersInvalid(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	for _, tc := range []struct {
		name  string
		query string
		want  []string // the parameter each problem names, in order
	}{
		{"unknown order", "order=newest", []string{"order"}},
		{"upper-case order", "order=DESC", []string{"order"}},
		{"type pattern", "type=client%25", []string{"type"}},
		{"wildcard inside type", "type=client.*.created", []string{"type"}},
		{"long type", "type=" + strings.Repeat("a", 201), []string{"type"}},
		{"type twice", "type=a&type=b", []string{"type"}},
		{"control in actor", "actor=user%3A%00", []string{"actor"}},
		{"invalid utf-8 subject", "subject=%FF", []string{"subject"}},
		{"long subject", "subject=" + strings.Repeat("s", 201), []string{"subject"}},
		{"since not RFC 3339", "since=yesterday", []string{"since"}},
		{"since without zone", "since=2030-01-01T00:00:00", []string{"since"}},
		{"unencoded plus", "until=2030-01-01T00:00:00+01:00", []string{"until"}},
		{"until before since", "since=2030-01-02T00:00:00Z&until=2030-01-01T00:00:00Z", []string{"until"}},
		{"several", "order=up&type=%2A%2A&since=soon", []string{"order", "since", "type"}},
	} {
		r := e.do(req{method: "GET", path: "/admin/v1/audit-events?" + tc.query})
		if r.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422: %s", tc.name, r.Status, r.Body)
			continue
		}
		p := r.problem(t)
		if p.Type != "https://keyward.dev/problems/validation" || len(p.Errors) != len(tc.want) {
			t.Errorf("%s: problem %+v, want a validation problem about %v", tc.name, p, tc.want)
			continue
		}
		for i, param := range tc.want {
			if p.Errors[i].Field != param || !strings.HasPrefix(p.Errors[i].Message, param+":") {
				t.Errorf("%s: error %+v, want one about %s", tc.name, p.Errors[i], param)
			}
		}
	}
	for _, q := range []string{"limit=0", "limit=x", "cursor=!!", "cursor=" + b64([]byte("an-id-not-a-cursor"))} {
		if r := e.do(req{method: "GET", path: "/admin/v1/audit-events?order=desc&" + q}); r.Status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", q, r.Status)
		}
	}
}
