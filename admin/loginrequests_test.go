package admin

import (
	"net/http"
	"testing"
)

// TestAPIUIRequestsErrors: an unknown challenge is a 404 problem on every
// route, and a body that cannot be right is 422 with its field before any
// challenge is looked up. (cmd/keyward's TestE2EHeadlessUI runs the whole
// flow through a real external UI.)
func TestAPIUIRequestsErrors(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	for _, r := range []req{
		{method: "GET", path: "/admin/v1/login-requests/nope"},
		{method: "GET", path: "/admin/v1/consent-requests/nope"},
		{method: "POST", path: "/admin/v1/consent-requests/nope/accept", body: map[string]any{"grant_scope": []string{"openid"}}},
		{method: "POST", path: "/admin/v1/login-requests/nope/reject", body: map[string]any{}},
		{method: "POST", path: "/admin/v1/consent-requests/nope/reject", body: map[string]any{"error": "access_denied"}},
	} {
		if resp := e.do(r); resp.Status != http.StatusNotFound || resp.problem(t).Status != http.StatusNotFound {
			t.Errorf("%s %s: %d %s", r.method, r.path, resp.Status, resp.Body)
		}
	}
	for _, tc := range []struct {
		r     req
		field string
	}{
		{req{method: "POST", path: "/admin/v1/login-requests/nope/accept", body: map[string]any{}}, "subject"},
		{req{method: "POST", path: "/admin/v1/login-requests/nope/accept", body: map[string]any{"subject": "ghost"}}, "subject"},
		{req{method: "POST", path: "/admin/v1/login-requests/nope/reject", body: map[string]any{"error": "nope"}}, "error"},
		{req{method: "POST", path: "/admin/v1/consent-requests/nope/reject",
			body: map[string]any{"error_description": "bad\nline"}}, "error_description"},
	} {
		resp := e.do(tc.r)
		if resp.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s %v: %d %s", tc.r.path, tc.r.body, resp.Status, resp.Body)
			continue
		}
		if p := resp.problem(t); len(p.Errors) != 1 || p.Errors[0].Field != tc.field {
			t.Errorf("%s %v: errors %+v, want field %s", tc.r.path, tc.r.body, p.Errors, tc.field)
		}
	}
	noToken := ""
	if resp := e.do(req{method: "GET", path: "/admin/v1/login-requests/nope", token: &noToken}); resp.Status != http.StatusUnauthorized {
		t.Errorf("without a token: %d", resp.Status)
	}
}
