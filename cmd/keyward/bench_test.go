package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyward/keyward/store/postgres/pgtest"
)

// runBench runs keyward bench with args and decodes its JSON output.
func runBench(t *testing.T, args ...string) []benchResult {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}
	code := m.Run(context.Background(), append([]string{"bench", "--format", "json"}, args...))
	m.Close()
	if code != 0 {
		t.Fatalf("bench exit %d: %s", code, errb.String())
	}
	var results []benchResult
	if err := json.Unmarshal(out.Bytes(), &results); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	return results
}

// TestBenchCommand runs every scenario of keyward bench briefly beside the
// hello handler: each must serve without errors and get a ratio (the
// numbers themselves belong in the closing notes, not in assertions); a
// second run compared with the first reports the change.
func TestBenchCommand(t *testing.T) {
	t.Parallel()
	results := runBench(t, "--duration", "200ms", "--connections", "4", "--compare-hello", "--keys", "50")
	if len(results) != len(benchScenarios) {
		t.Fatalf("want %d scenarios, got %+v", len(benchScenarios), results)
	}
	for i, r := range results {
		if r.Scenario != benchScenarios[i] || r.Requests == 0 || r.Errors != 0 || r.Ratio <= 0 || r.HelloPerSecond <= 0 {
			t.Errorf("%s: %d requests, %d errors, ratio %.2f to hello at %.0f/s", r.Scenario, r.Requests, r.Errors,
				r.Ratio, r.HelloPerSecond)
		}
		if r.Machine == "" {
			t.Errorf("%s: the machine is not named", r.Scenario)
		}
		if r.RSS < 1<<20 {
			t.Errorf("%s: RSS %d bytes", r.Scenario, r.RSS)
		}
		if (r.Scenario == "introspect-opaque-many") != (r.Seeded > 0) {
			t.Errorf("%s: %d seeded tokens", r.Scenario, r.Seeded)
		}
	}
	earlier := filepath.Join(t.TempDir(), "earlier.json")
	b, _ := json.Marshal(results)
	if err := os.WriteFile(earlier, b, 0o600); err != nil {
		t.Fatal(err)
	}
	again := runBench(t, "--duration", "100ms", "--connections", "2", "--scenario", "verify,jwks", "--compare", earlier)
	if len(again) != 2 || again[0].Scenario != "verify" || again[1].Scenario != "jwks" {
		t.Fatalf("--scenario verify,jwks ran %+v", again)
	}
	for _, r := range again {
		if r.Change == nil {
			t.Errorf("%s: no change against the earlier run", r.Scenario)
		}
	}
}

// TestBenchPostgres runs the API-key and introspection scenarios on
// PostgreSQL (--database-url), with keys seeded in bulk, and the warm tour
// of the keys, with 20 clients calling in turn.
func TestBenchPostgres(t *testing.T) {
	t.Parallel()
	url := pgtest.Schema(t)
	results := runBench(t, "--duration", "150ms", "--connections", "4", "--keys", "1500", "--tokens", "60000", "--clients", "20",
		"--scenario", "verify-many,verify-warm,introspect-opaque,introspect-opaque-many", "--database-url", url)
	for _, r := range results {
		if r.Requests == 0 || r.Errors != 0 {
			t.Errorf("%s on PostgreSQL: %d requests, %d errors", r.Scenario, r.Requests, r.Errors)
		}
	}
	if last := results[len(results)-1]; last.Scenario != "introspect-opaque-many" || last.Seeded != 60000 {
		t.Errorf("introspect-opaque-many: %+v, want 60000 seeded tokens (two COPY batches)", last)
	}
}

// TestBenchRefusesBadFlags: unknown scenarios and a --compare file that is
// not bench output are usage errors.
func TestBenchRefusesBadFlags(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte("{not json"), 0o600)
	for _, args := range [][]string{{"--scenario", "nope"}, {"--compare", bad}, {"--keys", "0"}, {"--tokens", "0"}, {"--clients", "0"}} {
		var out, errb bytes.Buffer
		m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}
		if code := m.Run(context.Background(), append([]string{"bench"}, args...)); code != 2 {
			t.Errorf("bench %v: exit %d, want 2 (%s)", args, code, errb.String())
		}
		m.Close()
	}
}
