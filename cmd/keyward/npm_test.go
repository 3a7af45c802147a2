package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// nodeRun is a node script (nodeScript) running under a test. The scripts
// print one JSON object a line on stdout and read lines on stdin.
type nodeRun struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *bufio.Scanner
	stderr syncBuffer
}

// startNode runs script with node for at most timeout, env added to this
// process's environment; it ends with the test if not waited for.
func startNode(t *testing.T, node, script string, timeout time.Duration, env ...string) *nodeRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	r := &nodeRun{t: t, cmd: exec.CommandContext(ctx, node, script)}
	r.cmd.Env = append(os.Environ(), env...)
	r.cmd.Stderr = &r.stderr
	var err error
	if r.stdin, err = r.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("node: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = r.cmd.Wait() // already waited for: an error, ignored
	})
	r.out = bufio.NewScanner(stdout)
	r.out.Buffer(make([]byte, 1<<16), 1<<20)
	return r
}

// read decodes the next line the script printed into v, failing the test
// when the script ended first or printed something else.
func (r *nodeRun) read(v any) {
	r.t.Helper()
	if !r.out.Scan() {
		r.t.Fatalf("node ended early: %v\n%s", r.out.Err(), r.stderr.String())
	}
	if err := json.Unmarshal(r.out.Bytes(), v); err != nil {
		r.t.Fatalf("node printed %q: %v\n%s", r.out.Bytes(), err, r.stderr.String())
	}
}

// next is the next line the script printed, as a JSON object.
func (r *nodeRun) next() map[string]any {
	r.t.Helper()
	var v map[string]any
	r.read(&v)
	return v
}

// send writes line to the script's stdin.
func (r *nodeRun) send(line string) {
	r.t.Helper()
	if _, err := fmt.Fprintln(r.stdin, line); err != nil {
		r.t.Fatalf("node's stdin: %v\n%s", err, r.stderr.String())
	}
}

// wait closes the script's stdin and waits for it to exit; a failure is
// an error of the test, with what the script wrote on stderr.
func (r *nodeRun) wait() {
	r.t.Helper()
	r.stdin.Close()
	if err := r.cmd.Wait(); err != nil {
		r.t.Errorf("node: %v\n%s", err, r.stderr.String())
	}
}

// runNode runs script to its end and decodes the one line it prints into
// v; it returns what the script wrote on stderr, for the test's messages.
func runNode(t *testing.T, node, script string, timeout time.Duration, v any, env ...string) string {
	t.Helper()
	r := startNode(t, node, script, timeout, env...)
	r.read(v)
	r.wait()
	return r.stderr.String()
}

// scriptError is what a node script prints when it fails.
type scriptError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

func (e scriptError) reported() scriptError { return e }

// clientCredentialsScript creates a client-credentials client with
// svcArgs (keyward clients create's flags) and a resource server, starts
// the server, and runs the openid-client script name against them
// (ISSUER, CLIENT_ID, CLIENT_SECRET, RS_ID, RS_SECRET, SCOPE=orders:read),
// decoding the line it prints into got, whose embedded scriptError fails
// the test when the script reports one.
func clientCredentialsScript(t *testing.T, e *env, node, modules, name string,
	got interface{ reported() scriptError }, svcArgs ...string) (svc clientInfo, s *server) {
	t.Helper()
	svc = e.newClient(append([]string{"--grant-type", "client_credentials", "--scope", "orders:read"}, svcArgs...)...)
	rs := e.newClient("--name", "resource server", "--grant-type", "client_credentials")
	s = e.serve()
	stderr := runNode(t, node, nodeScript(t, modules, name), 90*time.Second, got,
		"ISSUER="+s.PublicURL, "CLIENT_ID="+svc.ClientID, "CLIENT_SECRET="+svc.ClientSecret,
		"RS_ID="+rs.ClientID, "RS_SECRET="+rs.ClientSecret, "SCOPE=orders:read")
	if r := got.reported(); r.Error != "" {
		t.Fatalf("openid-client: %s %s\n%s", r.Error, r.Message, stderr)
	}
	return svc, s
}
