package main

import (
	"slices"
	"strings"
	"testing"
)

// TestResourcesCLI covers resources create|list|delete and clients create
// --resource, with --format json and the table output, on both engines.
func TestResourcesCLI(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		type resource struct {
			ID    string `json:"id"`
			URI   string `json:"uri"`
			Name  string `json:"name"`
			Scope string `json:"scope"`
		}
		var orders, tool resource
		e.runJSON(&orders, "", "resources", "create", "--uri", "https://orders.example/api", "--name", "Orders",
			"--scope", "orders:read orders:write")
		if orders.ID == "" || orders.URI != "https://orders.example/api" || orders.Name != "Orders" || orders.Scope != "orders:read orders:write" {
			t.Fatalf("create: %+v", orders)
		}
		e.runJSON(&tool, "", "resources", "create", "--uri", "urn:example:tool")
		var list []resource
		e.runJSON(&list, "", "resources", "list")
		if len(list) != 2 || list[0].ID != orders.ID {
			t.Fatalf("list: %+v", list)
		}
		code, out, _ := e.run("", "resources", "list")
		if code != 0 || !strings.Contains(out, "URI") || !strings.Contains(out, "urn:example:tool") {
			t.Fatalf("table: %d\n%s", code, out)
		}
		if code, _, stderr := e.run("", "resources", "create", "--uri", "https://orders.example/api"); code != 1 || !strings.Contains(stderr, "already exists") {
			t.Errorf("same URI again: exit %d %s", code, stderr)
		}
		for _, bad := range [][]string{
			{"resources", "create"},
			{"resources", "create", "--uri", "/relative"},
			{"resources", "create", "--uri", "https://a.example/#frag"},
			{"resources", "create", "--uri", "https://a.example", "--scope", `a"b`},
			{"resources", "delete"},
			{"resources", "list", "extra"},
			{"resources", "frob"},
		} {
			if code, _, stderr := e.run("", bad...); code != 2 || stderr == "" {
				t.Errorf("%v: exit %d, want 2 with a message", bad, code)
			}
		}

		var cl struct {
			ClientID  string   `json:"client_id"`
			Resources []string `json:"resources"`
		}
		e.runJSON(&cl, "", "clients", "create", "--name", "agent", "--resource", orders.URI, "--resource", "urn:example:private")
		if !slices.Equal(cl.Resources, []string{orders.URI, "urn:example:private"}) {
			t.Fatalf("client resources: %+v", cl)
		}
		if code, _, stderr := e.run("", "clients", "create", "--name", "x", "--resource", "no-scheme"); code != 2 || !strings.Contains(stderr, "absolute URI") {
			t.Errorf("client with a relative resource: exit %d %s", code, stderr)
		}

		// delete takes an id or a URI.
		e.runJSON(&struct{}{}, "", "resources", "delete", "urn:example:tool")
		e.runJSON(&struct{}{}, "", "resources", "delete", orders.ID)
		if code, _, stderr := e.run("", "resources", "delete", orders.ID); code != 1 || !strings.Contains(stderr, "not found") {
			t.Errorf("delete twice: exit %d %s", code, stderr)
		}
		e.runJSON(&list, "", "resources", "list")
		if len(list) != 0 {
			t.Fatalf("after delete: %+v", list)
		}
	})
}
