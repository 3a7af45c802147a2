package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store/sqlite"
)

// TestListJSONHasEveryPage: with --format json, clients list and apikeys
// list print every row, not the first page; with an explicit --limit they
// print that page and its next cursor on stderr.
func TestListJSONHasEveryPage(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	if code, _, stderr := e.run("", "clients", "list"); code != 0 { // migrates and makes the secret
		t.Fatal(stderr)
	}
	const n = pageSize + 7
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(e.dataDir, "keyward.db"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(e.dataDir, "secret"))
	if err != nil {
		t.Fatal(err)
	}
	secret := keys.Secret(strings.TrimSpace(string(raw)))
	reg, err := newClients(db, secret, newAuditor(db), nil)
	if err != nil {
		t.Fatal(err)
	}
	apikeys, err := newAPIKeys(db, secret, keys.EnvLive, newAuditor(db), slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, _, err := reg.Create(ctx, clients.Params{Name: "c", GrantTypes: []string{"client_credentials"}}); err != nil {
			t.Fatal(i, err)
		}
		if _, _, err := apikeys.Create(ctx, keys.CreateParams{Name: "k"}); err != nil {
			t.Fatal(i, err)
		}
	}
	apikeys.Close()
	db.Close()

	for cmd, id := range map[string]string{"clients": "client_id", "apikeys": "id"} {
		var all []map[string]any
		e.runJSON(&all, "", cmd, "list")
		seen := map[any]bool{}
		for _, it := range all {
			seen[it[id]] = true
		}
		if len(all) != n || len(seen) != n {
			t.Errorf("%s list --format json: %d rows (%d distinct), want all %d", cmd, len(all), len(seen), n)
		}
		code, out, stderr := e.run("", cmd, "list", "--format", "json", "--limit", "10")
		if code != 0 || strings.Count(out, "\n  {") != 10 || !strings.HasPrefix(stderr, "next cursor: ") {
			t.Errorf("%s list --limit 10: exit %d, %d rows, stderr %q", cmd, code, strings.Count(out, "\n  {"), stderr)
		}
		code, out, stderr = e.run("", cmd, "list")
		if code != 0 || strings.Count(out, "\n") != pageSize+1 || !strings.HasPrefix(stderr, "more: --cursor ") {
			t.Errorf("%s list (table): exit %d, %d lines, stderr %q", cmd, code, strings.Count(out, "\n"), stderr)
		}
	}
}
