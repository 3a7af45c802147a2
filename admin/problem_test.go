package admin

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestAPIProblems: every client mistake is a problem (RFC 9457) with its
// status, never a 500.
func TestAPIProblems(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	big := `{"client_name":"` + strings.Repeat("a", maxAPIBody) + `"}`
	for _, tc := range []struct {
		name         string
		r            req
		status       int
		kind         string
		detail       string
		allow        string
		wantProblems int
	}{
		{name: "unknown route", r: req{method: "GET", path: "/admin/v1/nope"}, status: 404, kind: "not-found"},
		{name: "unknown nested route", r: req{method: "GET", path: "/admin/v1/clients/x/y"}, status: 404, kind: "not-found"},
		{name: "trailing slash", r: req{method: "GET", path: "/admin/v1/clients/"}, status: 404, kind: "not-found"},
		{name: "unknown id", r: req{method: "GET", path: "/admin/v1/users/nope"}, status: 404, kind: "not-found"},
		{name: "method", r: req{method: "DELETE", path: "/admin/v1/clients"}, status: 405, kind: "method-not-allowed", allow: "GET, POST"},
		{name: "method on item", r: req{method: "POST", path: "/admin/v1/users/x"}, status: 405, kind: "method-not-allowed"},
		{name: "too large", r: req{method: "POST", path: "/admin/v1/clients", body: big}, status: 413, kind: "too-large"},
		{name: "not JSON", r: req{method: "POST", path: "/admin/v1/clients", body: "client_name=x",
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, status: 415, kind: "unsupported-media"},
		{name: "malformed", r: req{method: "POST", path: "/admin/v1/clients", body: `{"client_name":`}, status: 400, kind: "bad-request"},
		{name: "syntax", r: req{method: "POST", path: "/admin/v1/clients", body: `{"client_name" "x"}`}, status: 400, kind: "bad-request", detail: "byte"},
		{name: "unknown field", r: req{method: "POST", path: "/admin/v1/clients", body: `{"name":"x"}`}, status: 400, kind: "bad-request", detail: `"name"`},
		{name: "wrong type", r: req{method: "POST", path: "/admin/v1/clients", body: `{"client_name":5}`}, status: 422, kind: "validation", wantProblems: 1},
		{name: "bad duration", r: req{method: "POST", path: "/admin/v1/apikeys", body: `{"name":"x","expires_in":"soon","rate_limit":"x"}`}, status: 422, kind: "validation", wantProblems: 2},
		{name: "not an object", r: req{method: "POST", path: "/admin/v1/users", body: `[]`}, status: 400, kind: "bad-request"},
		{name: "trailing data", r: req{method: "POST", path: "/admin/v1/users", body: `{}{}`}, status: 400, kind: "bad-request"},
		{name: "validation", r: req{method: "POST", path: "/admin/v1/clients", body: `{"grant_types":["password"],"scope":"a\"b"}`},
			status: 422, kind: "validation", wantProblems: 3},
		{name: "bad limit", r: req{method: "GET", path: "/admin/v1/users?limit=0"}, status: 400, kind: "bad-request"},
		{name: "huge limit", r: req{method: "GET", path: "/admin/v1/users?limit=501"}, status: 400, kind: "bad-request"},
		{name: "bad cursor", r: req{method: "GET", path: "/admin/v1/users?cursor=%25%25"}, status: 400, kind: "bad-request"},
		{name: "bad idempotency key", r: req{method: "POST", path: "/admin/v1/signing-keys/rotate",
			header: map[string]string{"Idempotency-Key": strings.Repeat("k", 300)}}, status: 400, kind: "bad-request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.r)
			if r.Status != tc.status {
				t.Fatalf("%d, want %d: %s", r.Status, tc.status, r.Body)
			}
			p := r.problem(t)
			if p.Type != "https://keyward.dev/problems/"+tc.kind {
				t.Errorf("type %q, want kind %s", p.Type, tc.kind)
			}
			if !strings.Contains(p.Detail, tc.detail) {
				t.Errorf("detail %q lacks %q", p.Detail, tc.detail)
			}
			if tc.allow != "" && r.Header.Get("Allow") != tc.allow {
				t.Errorf("Allow = %q, want %q", r.Header.Get("Allow"), tc.allow)
			}
			if len(p.Errors) != tc.wantProblems {
				t.Errorf("errors %+v, want %d", p.Errors, tc.wantProblems)
			}
		})
	}
}

// TestAPIProblemGolden pins the wire form of a validation problem.
func TestAPIProblemGolden(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	r := e.do(req{method: "POST", path: "/admin/v1/users", body: `{"username":"a b","password":"short"}`})
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("%d: %s", r.Status, r.Body)
	}
	var got bytes.Buffer
	if err := json.Indent(&got, r.Body, "", "  "); err != nil {
		t.Fatal(err)
	}
	got.WriteString("\n")
	golden := filepath.Join("testdata", "problem_validation.golden")
	if *updateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("problem JSON differs from %s:\n got %s\nwant %s", golden, got.Bytes(), want)
	}
}
