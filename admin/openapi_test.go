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

// TestOpenAPIForGenerators: no schema takes a name that oapi-codegen
// gives its own types (the "Client" schema did: the generated client did
// not compile); every PUT, PATCH and DELETE of a resource takes If-Match
// and documents 412; every 422 is the one validation problem, whose
// errors are {field, message}. (cmd/keyward's TestAdminOpenAPIRedocly and
// TestAdminOpenAPIGeneratedClient run the tools themselves.)
func TestOpenAPIForGenerators(t *testing.T) {
	t.Parallel()
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	for _, reserved := range []string{"Client", "ClientInterface", "ClientOption", "ClientWithResponses",
		"ClientWithResponsesInterface", "HttpRequestDoer", "RequestEditorFn"} {
		if _, ok := doc.Components.Schemas[reserved]; ok {
			t.Errorf("schema %q collides with a type oapi-codegen generates", reserved)
		}
	}
	if _, ok := doc.Components.Schemas["OAuthClient"]; !ok {
		t.Error("no OAuthClient schema")
	}
	if !strings.Contains(string(doc.Components.Schemas["Problem"].Properties["errors"]), "#/components/schemas/FieldError") {
		t.Errorf("Problem.errors is %s, want FieldError items", doc.Components.Schemas["Problem"].Properties["errors"])
	}
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			var op struct {
				Parameters []struct {
					Ref string `json:"$ref"`
				} `json:"parameters"`
				Responses map[string]struct {
					Ref string `json:"$ref"`
				} `json:"responses"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				continue
			}
			if r, ok := op.Responses["422"]; ok && r.Ref != "#/components/responses/UnprocessableEntity" {
				t.Errorf("%s %s: 422 is %q, want the one validation problem", method, path, r.Ref)
			}
			if method != "put" && method != "patch" && method != "delete" || !strings.Contains(path, "{") {
				continue
			}
			hasIfMatch := slices.ContainsFunc(op.Parameters, func(p struct {
				Ref string `json:"$ref"`
			}) bool {
				return p.Ref == "#/components/parameters/IfMatch"
			})
			if _, ok := op.Responses["412"]; !ok || !hasIfMatch {
				t.Errorf("%s %s: If-Match %v, 412 documented %v", method, path, hasIfMatch, ok)
			}
		}
	}
}
