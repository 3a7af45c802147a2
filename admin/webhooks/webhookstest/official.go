// Package webhookstest checks webhook deliveries the way receivers do: with
// the official Standard Webhooks library for JavaScript (npm
// "standardwebhooks"), run by Node.js. Keyward's tests use it so that
// deliveries are verified by code that is not Keyward's.
package webhookstest

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Version is the npm "standardwebhooks" release the verifier runs.
const Version = "1.3.0"

//go:embed verify.js
var verifyJS []byte

// Delivery is one delivery to check: the webhook's secret, the request's
// headers and its raw body.
type Delivery struct {
	Secret  string            `json:"secret"`
	Headers map[string]string `json:"headers"`
	Body    []byte            `json:"body"` // base64 in JSON
}

// NewDelivery returns the Delivery of a request's header and body.
func NewDelivery(secret string, h http.Header, body []byte) Delivery {
	headers := make(map[string]string, len(h))
	for name := range h {
		headers[name] = h.Get(name)
	}
	return Delivery{Secret: secret, Headers: headers, Body: body}
}

// Result is the library's verdict on one delivery.
type Result struct {
	OK bool `json:"ok"`
	// Error is "<error name>: <message>" when !OK, e.g. a
	// WebhookVerificationError.
	Error string `json:"error"`
}

// Verifier runs the official library.
type Verifier struct {
	node, modules, script string
}

// Official returns a Verifier, installing standardwebhooks@Version with npm
// on the first run into the user cache dir (kept for later runs). Without
// node or npm, or when npm cannot install, the test fails when CI=true and
// is skipped otherwise.
func Official(t testing.TB) *Verifier {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable(t, "Node.js (node) is not installed: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "npm")
	if cache, err := os.UserCacheDir(); err == nil {
		dir = filepath.Join(cache, "keyward-test", "standardwebhooks@"+Version)
	}
	v := &Verifier{node: node, modules: filepath.Join(dir, "node_modules"), script: filepath.Join(t.TempDir(), "verify.js")}
	if err := os.WriteFile(v.script, verifyJS, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(v.modules, "standardwebhooks", "package.json")); err == nil {
		return v
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
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	out, err := exec.CommandContext(ctx, npm, "install", "--prefix", tmp, "--no-audit", "--no-fund",
		"--no-update-notifier", "standardwebhooks@"+Version).CombinedOutput()
	if err != nil {
		unavailable(t, "npm install standardwebhooks@%s: %v\n%s", Version, err, out)
	}
	t.Logf("npm installed standardwebhooks@%s into %s in %v", Version, dir, time.Since(start).Round(time.Millisecond))
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(filepath.Join(v.modules, "standardwebhooks", "package.json")); statErr != nil {
			t.Fatalf("%v (remove %s to install again)", err, dir) // not that another run got there first
		}
	}
	return v
}

// Verify has the library check every delivery, in one node run, and
// returns its verdicts in order.
func (v *Verifier) Verify(t testing.TB, in []Delivery) []Result {
	t.Helper()
	stdin, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, v.node, v.script)
	cmd.Env = append(os.Environ(), "NODE_PATH="+v.modules)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node verify.js: %v\n%s", err, stderr.Bytes())
	}
	t.Logf("node verified %d deliveries in %v", len(in), time.Since(start).Round(time.Millisecond))
	var results []Result
	if err := json.Unmarshal(out, &results); err != nil || len(results) != len(in) {
		t.Fatalf("node verify.js printed %s: %v", out, err)
	}
	return results
}

// unavailable fails the test when CI=true, and skips it otherwise.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...) + "; the official Standard Webhooks verifier needs Node.js and npm"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: not skipped)")
	}
	t.Skip(msg)
}
