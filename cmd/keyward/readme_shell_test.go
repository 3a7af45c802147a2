package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keyward/keyward/authz/verify"
)

// readmeShellSections are the README sections whose sh blocks
// TestREADMEShellBlocks runs, in this order (each up to its next heading).
var readmeShellSections = []string{
	"## Quick start (5 minutes)",
	"## API keys",
	"## Admin API and console",
	"### Remote mode of the CLI",
}

// readmeBlock is one sh block of the README.
type readmeBlock struct {
	section, text string
}

// readmeShellBlocks returns the sh blocks of the sections, in order.
func readmeShellBlocks(t *testing.T, readme string) []readmeBlock {
	t.Helper()
	fence := regexp.MustCompile("(?s)```sh\n(.*?)```")
	var out []readmeBlock
	for _, h := range readmeShellSections {
		i := strings.Index(readme, "\n"+h+"\n")
		if i < 0 {
			t.Fatalf("README has no section %q", h)
		}
		body := readme[i+len(h)+2:]
		if j := regexp.MustCompile(`\n#{1,3} `).FindStringIndex(body); j != nil {
			body = body[:j[0]]
		}
		blocks := fence.FindAllStringSubmatch(body, -1)
		if len(blocks) == 0 {
			t.Fatalf("README section %q has no sh block", h)
		}
		for _, b := range blocks {
			out = append(out, readmeBlock{h, b[1]})
		}
	}
	return out
}

// TestREADMEShellBlocks runs the sh blocks of the README's quick start
// (and of the API key, admin API and remote mode sections) as written, in
// order, in one fresh bash (no profile, a clean environment, an empty
// working directory): `go run ./cmd/keyward` is the binary built from this
// tree, the serve block runs in the background, and the default addresses
// 127.0.0.1:8080 and :8081 are free ports instead (through
// KEYWARD_PUBLIC_ADDR, KEYWARD_ADMIN_ADDR and KEYWARD_ISSUER, which the
// README documents). Every block must exit 0 under set -euo pipefail,
// every variable a block sets must hold a value (not "null"), and the
// access token of the quick start must pass the Go SDK example of
// "Resource servers in Go". It needs bash, curl and jq; they are
// installed by .ci/deps.sh, and with CI=true a missing one fails the test.
func TestREADMEShellBlocks(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: builds the binary and runs a server")
	}
	for _, tool := range []string{"bash", "curl", "jq", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed (CI=true)", tool)
			}
			t.Skipf("%s is not installed: the README's quick start needs it", tool)
		}
	}
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	blocks := readmeShellBlocks(t, readme)

	work := t.TempDir()
	bin := filepath.Join(work, "bin")
	if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, "keyward"), ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	home := filepath.Join(work, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatal(err)
	}
	pub, adm := freeAddr(t), freeAddr(t)
	ports := strings.NewReplacer("127.0.0.1:8080", pub, "127.0.0.1:8081", adm, "go run ./cmd/keyward", "keyward")

	// The script: each block as written (ports and binary replaced), the
	// serve block in the background until /readyz answers, then the value
	// of every variable the blocks set.
	assigned := regexp.MustCompile(`(?m)^(?:export )?([A-Z][A-Z0-9_]*)=`)
	var script strings.Builder
	script.WriteString("set -euo pipefail\ntrap 'echo \"README block $block failed\" >&2' ERR\n")
	var vars []string
	served := false
	for i, b := range blocks {
		text := ports.Replace(b.text)
		fmt.Fprintf(&script, "block=%d\necho '--- README block %d (%s)'\n", i+1, i+1, b.section)
		if strings.TrimSpace(text) == "keyward serve" {
			served = true
			script.WriteString("keyward serve >serve.log 2>&1 &\necho $! >serve.pid\n" +
				"for _ in $(seq 1 100); do curl -sf http://" + pub + "/readyz >/dev/null && break; sleep 0.2; done\n" +
				"curl -sf http://" + pub + "/readyz >/dev/null || { cat serve.log >&2; exit 1; }\n")
			continue
		}
		script.WriteString(text)
		for _, m := range assigned.FindAllStringSubmatch(b.text, -1) {
			vars = append(vars, m[1])
		}
	}
	if !served {
		t.Fatal("the quick start has no `go run ./cmd/keyward serve` block")
	}
	for _, v := range vars {
		fmt.Fprintf(&script, "printf 'README-VAR %s=%%s\\n' \"$%s\"\n", v, v)
	}
	if err := os.WriteFile(filepath.Join(work, "readme.sh"), []byte(script.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", filepath.Join(work, "readme.sh"))
	cmd.Dir = work
	cmd.Env = []string{"PATH=" + bin + ":/usr/local/bin:/usr/bin:/bin", "HOME=" + home, "LANG=C.UTF-8",
		"KEYWARD_PUBLIC_ADDR=" + pub, "KEYWARD_ADMIN_ADDR=" + adm, "KEYWARD_ISSUER=http://" + pub}
	t.Cleanup(func() { // the server the script left running
		if b, err := os.ReadFile(filepath.Join(work, "serve.pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				_ = syscall.Kill(pid, syscall.SIGTERM)
				time.Sleep(200 * time.Millisecond)
			}
		}
	})
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's shell blocks: %v\n%s\n--- script:\n%s", err, out, script.String())
	}
	values := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if kv, ok := strings.CutPrefix(line, "README-VAR "); ok {
			k, v, _ := strings.Cut(kv, "=")
			values[k] = v
		}
	}
	for _, v := range vars {
		if values[v] == "" || values[v] == "null" {
			t.Errorf("README: $%s is %q after the blocks\n%s", v, values[v], out)
		}
	}
	for _, want := range []string{`"active": true`, `"valid": true`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("README: no %s in the output\n%s", want, out)
		}
	}

	// The Go SDK example, as configured in the README, admits the quick
	// start's token for the scope it requires.
	sdk := readme[strings.Index(readme, "## Resource servers in Go"):]
	issuer := regexp.MustCompile(`verify\.Config\{Issuer: "([^"]+)"`).FindStringSubmatch(sdk)
	scope := regexp.MustCompile(`verify\.RequireToken\(v, "([^"]+)"\)`).FindStringSubmatch(sdk)
	if issuer == nil || scope == nil {
		t.Fatal("README: the SDK example's verify.Config{Issuer: …} or verify.RequireToken(v, …) is not found")
	}
	if strings.Contains(sdk[:strings.Index(sdk, "```\n")], "Audience") {
		t.Error("README: the SDK example sets an Audience, which the quick start's client does not ask for")
	}
	v, err := verify.New(ctx, verify.Config{Issuer: ports.Replace(issuer[1])})
	if err != nil {
		t.Fatal(err)
	}
	h := verify.RequireToken(v, scope[1])(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	req := httptest.NewRequest("GET", "/invoices", nil)
	req.Header.Set("Authorization", "Bearer "+values["ACCESS_TOKEN"])
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("the SDK example refuses the quick start's token: %d %s", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
}
