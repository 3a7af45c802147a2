package authz

import (
	"encoding/json"
	"testing"
)

// withMember appends a member to a rendered document and keeps it valid
// JSON, the others first and in their order.
func TestWithMember(t *testing.T) {
	uris := []string{"https://api.example/a", "https://api.example/<b>"}
	for _, c := range []struct{ doc, want string }{
		{`{"issuer":"x","a":[1]}`, `{"issuer":"x","a":[1],"protected_resources":["https://api.example/a","https://api.example/\u003cb\u003e"]}`},
		{"{\"issuer\":\"x\"}\n", `{"issuer":"x","protected_resources":["https://api.example/a","https://api.example/\u003cb\u003e"]}`},
		{"{\n  \"issuer\": \"x\"\n}", "{\n  \"issuer\": \"x\"," + `"protected_resources":["https://api.example/a","https://api.example/\u003cb\u003e"]}`},
		{`{}`, `{"protected_resources":["https://api.example/a","https://api.example/\u003cb\u003e"]}`},
		{`[1]`, `[1]`},
		{``, ``},
	} {
		got := string(withMember([]byte(c.doc), "protected_resources", uris))
		if got != c.want {
			t.Errorf("withMember(%q) = %q, want %q", c.doc, got, c.want)
		}
		if c.doc != c.want && !json.Valid([]byte(got)) {
			t.Errorf("withMember(%q) is not JSON: %q", c.doc, got)
		}
	}
	if got := string(withMember([]byte(`{"a":1}`), "b", func() {})); got != `{"a":1}` {
		t.Errorf("a value JSON cannot hold changed the document: %q", got)
	}
}
