package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// standardWebhooksVersion is the official Standard Webhooks library for
// JavaScript (npm "standardwebhooks") that TestOfficialVerifier runs.
const standardWebhooksVersion = "1.3.0"

// TestOfficialVerifier has the official Standard Webhooks verifier, run
// by Node.js (testdata/verify.js), check a real delivery: a Dispatcher on
// a real store POSTs an event to a receiver on loopback, and what arrived
// verifies with the webhook's secret as the API shows it; with its body
// changed, or with another secret, it does not.
func TestOfficialVerifier(t *testing.T) {
	t.Parallel()
	node, modules := officialVerifier(t)
	f := newFixture(t, "client.*")
	d := f.newDispatcher(t, Config{})
	run(t, d)
	f.record(t, "client.created", "c1")
	got := f.recv.waitOK(t, 1)[0]

	headers := make(map[string]string)
	for name := range got.Header {
		headers[name] = got.Header.Get(name)
	}
	tampered := bytes.Replace(got.Body, []byte(`"c1"`), []byte(`"c2"`), 1)
	if bytes.Equal(tampered, got.Body) {
		t.Fatalf("nothing to tamper with in %s", got.Body)
	}
	other, _ := d.NewSecret("hook-2")
	cases := []struct {
		name string
		in   verifierInput
		ok   bool
	}{
		{"the delivery", verifierInput{f.secret, headers, got.Body}, true},
		{"a tampered body", verifierInput{f.secret, headers, tampered}, false},
		{"another secret", verifierInput{other, headers, got.Body}, false},
	}
	in := make([]verifierInput, len(cases))
	for i, c := range cases {
		in[i] = c.in
	}
	for i, r := range runVerifier(t, node, modules, in) {
		if c := cases[i]; r.OK != c.ok || !c.ok && !strings.HasPrefix(r.Error, "WebhookVerificationError") {
			t.Errorf("%s: %+v, want ok %v (else a WebhookVerificationError)\nheaders %v\nbody %s", c.name, r, c.ok, headers, c.in.Body)
		}
	}
}

// verifierInput is one delivery for testdata/verify.js.
type verifierInput struct {
	Secret  string            `json:"secret"`
	Headers map[string]string `json:"headers"`
	Body    []byte            `json:"body"` // base64 in JSON
}

// verifierResult is its verdict on one.
type verifierResult struct {
	OK    bool   `json:"ok"`
	Error string `json:"error"`
}

// runVerifier runs testdata/verify.js once on all of in.
func runVerifier(t *testing.T, node, modules string, in []verifierInput) []verifierResult {
	t.Helper()
	stdin, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("testdata", "verify.js"))
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node testdata/verify.js: %v\n%s", err, stderr.Bytes())
	}
	t.Logf("node verified %d deliveries in %v", len(in), time.Since(start).Round(time.Millisecond))
	var results []verifierResult
	if err := json.Unmarshal(out, &results); err != nil || len(results) != len(in) {
		t.Fatalf("node testdata/verify.js printed %s: %v", out, err)
	}
	return results
}

// officialVerifier returns the node program and the node_modules folder
// that holds standardwebhooks@standardWebhooksVersion, installed with npm
// on the first run into the user cache dir and kept there. Without node
// or npm, or when npm cannot install, the test fails when CI=true and is
// skipped otherwise.
func officialVerifier(t *testing.T) (node, modules string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable(t, "Node.js (node) is not installed: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "npm")
	if cache, err := os.UserCacheDir(); err == nil {
		dir = filepath.Join(cache, "keyward-test", "standardwebhooks@"+standardWebhooksVersion)
	}
	modules = filepath.Join(dir, "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "standardwebhooks", "package.json")); err == nil {
		return node, modules
	} else if !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		unavailable(t, "npm is not installed: %v", err)
	}
	// Install beside dir, then rename: a concurrent run never sees half
	// an install.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".install-*")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	out, err := exec.CommandContext(ctx, npm, "install", "--prefix", tmp, "--no-audit", "--no-fund",
		"--no-update-notifier", "standardwebhooks@"+standardWebhooksVersion).CombinedOutput()
	if err != nil {
		unavailable(t, "npm install standardwebhooks@%s: %v\n%s", standardWebhooksVersion, err, out)
	}
	t.Logf("npm installed standardwebhooks@%s into %s in %v", standardWebhooksVersion, dir, time.Since(start).Round(time.Millisecond))
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(filepath.Join(modules, "standardwebhooks", "package.json")); statErr != nil {
			t.Fatalf("%v (remove %s to install again)", err, dir) // not that another run got there first
		}
	}
	return node, modules
}

// unavailable fails the test when CI=true, and skips it otherwise.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...) + "; the official Standard Webhooks verifier needs Node.js and npm"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: not skipped)")
	}
	t.Skip(msg)
}
