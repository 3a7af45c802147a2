package client

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGeneratedClientCurrent regenerates the client from ../openapi.json
// into a temporary directory, with the generator and configuration that
// go:generate uses, and fails when client.gen.go differs: a change to the
// OpenAPI document needs `go generate ./admin/client`. Without the module
// proxy it is skipped, unless CI=true.
func TestGeneratedClientCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: running oapi-codegen takes a while")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	src, err := os.ReadFile("generate.go")
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, l := range strings.Split(string(src), "\n") {
		if rest, ok := strings.CutPrefix(l, "//go:generate go "); ok {
			args = strings.Fields(rest)
		}
	}
	if len(args) == 0 {
		t.Fatal("generate.go has no //go:generate go … line")
	}
	dir := t.TempDir()
	cfg, err := os.ReadFile("oapi-codegen.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "oapi-codegen.yaml"), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	doc, err := filepath.Abs("../openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range args {
		if a == "../openapi.json" {
			args[i] = doc
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		if (strings.Contains(string(out), "proxy") || strings.Contains(string(out), "dial tcp")) && os.Getenv("CI") != "true" {
			t.Skipf("oapi-codegen needs the module proxy: %v\n%s", err, out)
		}
		t.Fatalf("go %v: %v\n%s", args, err, out)
	}
	fresh, err := os.ReadFile(filepath.Join(dir, "client.gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("client.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh, committed) {
		t.Fatal("client.gen.go is not what admin/openapi.json generates: run go generate ./admin/client")
	}
}
