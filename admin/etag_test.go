package admin

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/keys"
)

// TestAPIConditionalRequests: every resource answer has an ETag, the same
// from a create (with its one-time secret) as from a later GET; If-Match
// on PUT, PATCH and DELETE answers 412 when the resource changed or is
// gone; If-None-Match on GET answers 304.
func TestAPIConditionalRequests(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	var cl clients.View
	created := e.call("POST", "/admin/v1/clients", map[string]any{"client_name": "svc", "grant_types": []string{"client_credentials"}}, http.StatusCreated, &cl)
	path := "/admin/v1/clients/" + cl.ClientID
	tag := created.Header.Get("ETag")
	got := e.do(req{method: "GET", path: path})
	if tag == "" || got.Header.Get("ETag") != tag || tag[0] != '"' {
		t.Fatalf("ETag of the create answer %q, of GET %q: want the same strong tag", tag, got.Header.Get("ETag"))
	}
	if r := e.do(req{method: "GET", path: path, header: map[string]string{"If-None-Match": tag}}); r.Status != http.StatusNotModified || len(r.Body) != 0 {
		t.Errorf("GET If-None-Match current: %d %q, want 304", r.Status, r.Body)
	}
	ifMatch := func(method, tag string, body any) apiResp {
		return e.do(req{method: method, path: path, body: body, header: map[string]string{"If-Match": tag}})
	}
	if r := ifMatch("PATCH", `"other"`, map[string]any{"client_name": "x"}); r.Status != http.StatusPreconditionFailed ||
		r.Header.Get("ETag") != tag || r.problem(t).Type != "https://keyward.dev/problems/precondition-failed" {
		t.Fatalf("PATCH If-Match another tag: %d %s, ETag %q", r.Status, r.Body, r.Header.Get("ETag"))
	}
	if r := ifMatch("PATCH", "W/"+tag, map[string]any{"client_name": "x"}); r.Status != http.StatusPreconditionFailed {
		t.Errorf("PATCH If-Match a weak tag: %d, want 412 (strong comparison)", r.Status)
	}
	time.Sleep(2 * time.Millisecond) // updated_at moves on
	r := ifMatch("PATCH", tag, map[string]any{"client_name": "svc-2"})
	newTag := r.Header.Get("ETag")
	if r.Status != http.StatusOK || newTag == "" || newTag == tag {
		t.Fatalf("PATCH If-Match current: %d %s, ETag %q (was %q)", r.Status, r.Body, newTag, tag)
	}
	if r := ifMatch("PUT", tag, map[string]any{"client_name": "svc-3"}); r.Status != http.StatusPreconditionFailed {
		t.Errorf("PUT with the ETag from before the PATCH: %d, want 412", r.Status)
	}
	if r := ifMatch("DELETE", tag, nil); r.Status != http.StatusPreconditionFailed {
		t.Errorf("DELETE with a stale ETag: %d, want 412", r.Status)
	}
	if r := ifMatch("DELETE", newTag, nil); r.Status != http.StatusNoContent {
		t.Fatalf("DELETE with the current ETag: %d %s", r.Status, r.Body)
	}
	if r := ifMatch("DELETE", "*", nil); r.Status != http.StatusPreconditionFailed {
		t.Errorf("DELETE If-Match * of a deleted client: %d, want 412", r.Status)
	}

	// Users and API keys too; an API key's ETag does not move with use.
	var k keys.View
	kr := e.call("POST", "/admin/v1/apikeys", map[string]any{"name": "ci"}, http.StatusCreated, &k)
	kpath := "/admin/v1/apikeys/" + k.ID
	if g := e.do(req{method: "GET", path: kpath}); g.Header.Get("ETag") == "" || g.Header.Get("ETag") != kr.Header.Get("ETag") {
		t.Errorf("API key ETag: create %q, GET %q", kr.Header.Get("ETag"), g.Header.Get("ETag"))
	}
	if r := e.do(req{method: "PATCH", path: kpath, body: map[string]any{"name": "ci-2"}, header: map[string]string{"If-Match": kr.Header.Get("ETag")}}); r.Status != http.StatusOK {
		t.Errorf("API key PATCH If-Match: %d %s", r.Status, r.Body)
	}
	var u struct{ ID string }
	ur := e.call("POST", "/admin/v1/users", map[string]any{"username": "erin", "password": "correct horse"}, http.StatusCreated, &u)
	if r := e.do(req{method: "DELETE", path: "/admin/v1/users/" + u.ID, header: map[string]string{"If-Match": `"nope", ` + ur.Header.Get("ETag")}}); r.Status != http.StatusNoContent {
		t.Errorf("user DELETE If-Match a list holding the current tag: %d %s", r.Status, r.Body)
	}
	// Lists have one too.
	if l := e.do(req{method: "GET", path: "/admin/v1/clients"}); l.Header.Get("ETag") == "" {
		t.Error("GET /clients has no ETag")
	}
}

// TestDeprecationHeaders: a route in the table of deprecated routes
// answers with Deprecation (RFC 9745), Sunset (RFC 8594) and Link; the
// others with none of them.
func TestDeprecationHeaders(t *testing.T) {
	t.Parallel()
	gin.SetMode(gin.ReleaseMode)
	since := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	table := map[string]Deprecation{"GET /admin/v1/old/:id": {Since: since, Sunset: since.AddDate(0, 6, 0),
		Link: "https://keyward.dev/docs/deprecations#old", Successor: "/admin/v1/new"}}
	eng := gin.New()
	eng.Use(deprecations(table))
	ok := func(c *gin.Context) { c.Status(http.StatusOK) }
	eng.GET("/admin/v1/old/:id", ok)
	eng.GET("/admin/v1/new/:id", ok)
	rec := httptest.NewRecorder()
	eng.ServeHTTP(rec, httptest.NewRequest("GET", "/admin/v1/old/x", nil))
	h := rec.Header()
	if h.Get("Deprecation") != "@1796083200" || h.Get("Sunset") != "Tue, 01 Jun 2027 00:00:00 GMT" || len(h.Values("Link")) != 2 {
		t.Errorf("deprecated route: %v", h)
	}
	rec = httptest.NewRecorder()
	eng.ServeHTTP(rec, httptest.NewRequest("GET", "/admin/v1/new/x", nil))
	if rec.Header().Get("Deprecation") != "" || rec.Header().Get("Sunset") != "" {
		t.Errorf("current route: %v", rec.Header())
	}
	if len(deprecatedRoutes()) != 0 {
		t.Log("deprecated routes:", deprecatedRoutes())
	}
}
