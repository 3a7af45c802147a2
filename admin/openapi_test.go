package admin

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPIDocument: the document is OpenAPI 3.1 JSON and describes
// exactly the routes the API registers, each method of each path.
func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Servers []struct{ URL string }                `json:"servers"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !regexp.MustCompile(`^3\.1\.\d+$`).MatchString(doc.OpenAPI) {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "/admin/v1" {
		t.Fatalf("servers = %+v, want /admin/v1", doc.Servers)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			switch method {
			case "get", "put", "post", "delete", "patch", "head", "options", "trace":
				documented[strings.ToUpper(method)+" "+path] = true
			}
		}
	}

	e := newAPIEnv(t)
	param := regexp.MustCompile(`:([a-z]+)`)
	registered := map[string]bool{}
	for _, r := range e.srv.apiEngine().Routes() {
		path, ok := strings.CutPrefix(r.Path, "/admin/v1")
		if !ok {
			t.Errorf("route %s %s outside /admin/v1", r.Method, r.Path)
			continue
		}
		registered[r.Method+" "+param.ReplaceAllString(path, "{$1}")] = true
	}
	for route := range registered {
		if !documented[route] {
			t.Errorf("%s is not in openapi.json", route)
		}
	}
	for route := range documented {
		if !registered[route] {
			t.Errorf("openapi.json describes %s, which is not a route", route)
		}
	}
	if len(registered) < 30 {
		t.Errorf("only %d routes registered", len(registered))
	}

	// It is served, without authentication, as it is embedded.
	r := e.do(req{method: "GET", path: "/admin/v1/openapi.json", token: strPtr("")})
	if r.Status != http.StatusOK || !slices.Equal(r.Body, openAPIDoc) || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Errorf("GET openapi.json: %d %q", r.Status, r.Header.Get("Content-Type"))
	}
}
