package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// adminOpenAPI is the admin API's OpenAPI document as it is embedded.
const adminOpenAPI = "../../admin/openapi.json"

// redoclyVersion is the @redocly/cli release that lints the document.
const redoclyVersion = "2.77.0"

// TestAdminOpenAPIRedocly lints the admin API's OpenAPI document with
// Redocly's recommended rules: no error and no warning. One rule is off:
// info-license, as the project has not published a license for the
// document to name.
func TestAdminOpenAPIRedocly(t *testing.T) {
	t.Parallel()
	node, modules := npmPackage(t, "@redocly/cli", redoclyVersion)
	doc, err := filepath.Abs(adminOpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "redocly.yaml")
	if err := os.WriteFile(cfg, []byte("extends:\n  - recommended\nrules:\n  info-license: off\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(modules, "@redocly", "cli", "bin", "cli.js"),
		"lint", "--config", cfg, "--format=json", doc)
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true")
	out, err := cmd.Output()
	var report struct {
		Totals   struct{ Errors, Warnings int } `json:"totals"`
		Problems []struct {
			RuleID  string `json:"ruleId"`
			Message string `json:"message"`
		} `json:"problems"`
	}
	if jerr := json.Unmarshal(out, &report); jerr != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("redocly lint: %v %v\n%s\n%s", err, jerr, out, stderr)
	}
	for _, p := range report.Problems {
		t.Errorf("redocly %s: %s", p.RuleID, p.Message)
	}
	if report.Totals.Errors+report.Totals.Warnings != 0 || err != nil {
		t.Errorf("redocly lint: %d errors, %d warnings (%v)", report.Totals.Errors, report.Totals.Warnings, err)
	}
}

// oapiCodegen is the generator that must accept the document.
const oapiCodegen = "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2"

// TestAdminOpenAPIGeneratedClient generates a Go client for the admin API
// with oapi-codegen in a module of its own and compiles it (go vet): a
// schema name that collides with a generated type (the "Client" schema
// did) fails here. Without the module proxy it is skipped, unless
// CI=true.
func TestAdminOpenAPIGeneratedClient(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: generating and compiling a client takes a minute")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	doc, err := filepath.Abs(adminOpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":   "module example.com/keywardadmin\n\ngo 1.24\n",
		"cfg.yaml": "package: keywardadmin\noutput: client.gen.go\ngenerate:\n  models: true\n  client: true\n",
		"use.go": `package keywardadmin

import "context"

// use proves the generated names: the renamed schema and a call.
func use(c *ClientWithResponses) (*OAuthClient, error) {
	r, err := c.GetClientWithResponse(context.Background(), "id", nil)
	if err != nil {
		return nil, err
	}
	return r.JSON200, nil
}

var _ = use
`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, goBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		out, err := cmd.CombinedOutput()
		if err == nil {
			return
		}
		if strings.Contains(string(out), "proxy") || strings.Contains(string(out), "dial tcp") {
			if os.Getenv("CI") == "true" {
				t.Fatalf("go %v: %v\n%s (CI=true: not skipped)", args, err, out)
			}
			t.Skipf("go %v needs the module proxy: %v\n%s", args, err, out)
		}
		t.Fatalf("go %v: %v\n%s", args, err, out)
	}
	run("run", oapiCodegen, "-config", "cfg.yaml", doc)
	run("get", "github.com/oapi-codegen/runtime@v1.9.0")
	run("mod", "tidy")
	run("vet", "./...")
}
