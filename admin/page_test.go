package admin

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/keyward/keyward/admin/webhooks"
	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/clients"
)

var linkNext = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)

// TestAPIPagination follows the Link rel="next" headers (RFC 8288)
// through every page, and checks the last page has none.
func TestAPIPagination(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	for i := range 5 {
		e.call("POST", "/admin/v1/users", map[string]any{"username": fmt.Sprintf("u%d", i), "password": "correct horse"},
			http.StatusCreated, nil)
	}
	var names []string
	path, pages := "/admin/v1/users?limit=2", 0
	for path != "" {
		var page listBody[accounts.UserView]
		r := e.call("GET", path, nil, http.StatusOK, &page)
		pages++
		for _, u := range page.Items {
			names = append(names, u.Username)
		}
		link := r.Header.Get("Link")
		if page.NextCursor == "" {
			if link != "" {
				t.Errorf("last page has Link %q", link)
			}
			break
		}
		m := linkNext.FindStringSubmatch(link)
		if m == nil {
			t.Fatalf("page %d: Link %q", pages, link)
		}
		if !strings.Contains(m[1], "limit=2") || !strings.Contains(m[1], "cursor="+page.NextCursor) {
			t.Errorf("Link %q lacks the limit or the cursor %q", m[1], page.NextCursor)
		}
		path = m[1]
	}
	if got := strings.Join(names, ","); got != "u0,u1,u2,u3,u4" || pages != 3 {
		t.Errorf("%d pages: %s", pages, got)
	}
	var page listBody[accounts.UserView]
	e.call("GET", "/admin/v1/users", nil, http.StatusOK, &page)
	if len(page.Items) != 5 || page.NextCursor != "" {
		t.Errorf("default page: %d items, next %q", len(page.Items), page.NextCursor)
	}
}

// TestAPIAuditEvents: mutations through the API are in the audit log with
// the calling client as the actor.
func TestAPIAuditEvents(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	var cl clients.View
	e.call("POST", "/admin/v1/clients", map[string]any{"client_name": "svc"}, http.StatusCreated, &cl)
	e.call("POST", "/admin/v1/users", map[string]any{"username": "eve", "password": "correct horse"}, http.StatusCreated, nil)
	e.call("POST", "/admin/v1/signing-keys/rotate", map[string]any{"force": true}, http.StatusOK, nil)
	var all []webhooks.Event
	path := "/admin/v1/audit-events?limit=3"
	for path != "" {
		var page listBody[webhooks.Event]
		r := e.call("GET", path, nil, http.StatusOK, &page)
		all = append(all, page.Items...)
		path = ""
		if m := linkNext.FindStringSubmatch(r.Header.Get("Link")); m != nil {
			path = m[1]
		}
	}
	actor := "client:" + e.clientID
	want := map[string]bool{"client.created/" + cl.ClientID: false, "user.created": false, "signing_key.activated": false}
	for _, ev := range all {
		key := ev.Type
		if ev.Type == "client.created" {
			key += "/" + ev.Subject
		}
		if _, ok := want[key]; ok && ev.Actor == actor {
			want[key] = true
		}
	}
	for k, seen := range want {
		if !seen {
			t.Errorf("no %s event by %s among %d events", k, actor, len(all))
		}
	}
}
