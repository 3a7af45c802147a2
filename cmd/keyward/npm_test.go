package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// npmPackage returns node and a node_modules folder holding pkg@version,
// installed with npm on the first run into the user cache dir and kept
// there (installed beside it, then renamed, so a concurrent run never sees
// half an install). Without node or npm, or when npm cannot install, the
// test fails when CI=true and is skipped otherwise: the independent
// clients the e2e tests run (oauth4webapi, openid-client) need Node.js.
func npmPackage(t *testing.T, pkg, version string) (node, modules string) {
	t.Helper()
	unavailable := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...) + "; the " + pkg + " client needs Node.js and npm"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI=true: not skipped)")
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable("Node.js (node) is not installed: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "npm")
	if cache, err := os.UserCacheDir(); err == nil {
		dir = filepath.Join(cache, "keyward-test", pkg+"@"+version)
	}
	modules = filepath.Join(dir, "node_modules")
	installed := filepath.Join(modules, pkg, "package.json")
	if _, err := os.Stat(installed); err == nil {
		return node, modules
	} else if !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		unavailable("npm is not installed: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".install-*")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, npm, "install", "--prefix", tmp, "--no-audit", "--no-fund",
		"--no-update-notifier", pkg+"@"+version).CombinedOutput()
	if err != nil {
		unavailable("npm install %s@%s: %v\n%s", pkg, version, err, out)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(installed); statErr != nil {
			t.Fatalf("%v (remove %s to install again)", err, dir) // not that another run got there first
		}
	}
	return node, modules
}

// nodeScript copies testdata/name into a directory of its own whose
// node_modules is modules (Node.js resolves an ES module's imports from
// the script's directory, not NODE_PATH) and returns the copy's path.
func nodeScript(t *testing.T, modules, name string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Symlink(modules, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, name)
	if err := os.WriteFile(script, src, 0o644); err != nil {
		t.Fatal(err)
	}
	return script
}
