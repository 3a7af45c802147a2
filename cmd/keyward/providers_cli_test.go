package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestProvidersCLI covers providers create|list|delete (SQLite; the
// store's conformance suite covers PostgreSQL): the JSON holds the
// redirect_uri, the secret is read from standard input and never printed,
// and bad input is a usage error or a listed problem.
func TestProvidersCLI(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	type provider struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		Issuer      string `json:"issuer"`
		ClientID    string `json:"client_id"`
		Scope       string `json:"scope"`
		Enabled     bool   `json:"enabled"`
		RedirectURI string `json:"redirect_uri"`
	}
	var p provider
	code, out, errs := e.run("cli-upstream-secret\n", "providers", "create", "--name", "corp", "--issuer", "https://idp.example",
		"--client-id", "kw", "--client-secret-stdin", "--scope", "openid email", "--public-issuer", "https://login.example", "--format", "json")
	if code != 0 || strings.Contains(out, "cli-upstream-secret") {
		t.Fatalf("create: exit %d\n%s\n%s", code, out, errs)
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil || p.ID == "" || p.Scope != "openid email" || !p.Enabled ||
		p.RedirectURI != "https://login.example/oauth2/upstream/corp/callback" {
		t.Fatalf("create: %+v, %v", p, err)
	}
	var list []provider
	e.runJSON(&list, "", "providers", "list")
	if len(list) != 1 || list[0].ID != p.ID {
		t.Fatalf("list: %+v", list)
	}
	if code, out, _ := e.run("", "providers", "list"); code != 0 || !strings.Contains(out, "REDIRECT URI") || strings.Contains(out, "cli-upstream-secret") {
		t.Fatalf("table: %d\n%s", code, out)
	}
	if code, _, stderr := e.run("x\n", "providers", "create", "--name", "corp", "--issuer", "https://idp.example",
		"--client-id", "kw", "--client-secret-stdin"); code != 1 || !strings.Contains(stderr, "exists") {
		t.Errorf("same name again: exit %d %s", code, stderr)
	}
	if code, _, stderr := e.run("x\n", "providers", "create", "--name", "Bad", "--issuer", "ftp://idp.example",
		"--client-id", "kw", "--client-secret-stdin"); code != 2 || !strings.Contains(stderr, "name") || !strings.Contains(stderr, "issuer") {
		t.Errorf("invalid: exit %d %s", code, stderr)
	}
	for _, bad := range [][]string{
		{"providers", "create", "--name", "x", "--issuer", "https://i.example", "--client-id", "kw"},
		{"providers", "create", "--name", "x", "--client-secret-stdin"},
		{"providers", "delete"},
		{"providers", "frobnicate"},
	} {
		if code, _, _ := e.run("s\n", bad...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage)", bad, code)
		}
	}
	if code, _, errs := e.run("", "providers", "delete", "corp"); code != 0 {
		t.Fatalf("delete: %d %s", code, errs)
	}
	e.runJSON(&list, "", "providers", "list")
	if len(list) != 0 {
		t.Errorf("after delete: %+v", list)
	}
}
