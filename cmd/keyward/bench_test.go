package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestBenchCommand runs keyward bench briefly: it must serve every scenario
// without errors (the numbers themselves belong in the closing notes, not
// in assertions).
func TestBenchCommand(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}
	code := m.Run(context.Background(), []string{"bench", "--duration", "200ms", "--connections", "4", "--format", "json"})
	m.Close()
	if code != 0 {
		t.Fatalf("bench exit %d: %s", code, errb.String())
	}
	var results []benchResult
	if err := json.Unmarshal(out.Bytes(), &results); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(results) != 3 {
		t.Fatalf("want 3 scenarios, got %+v", results)
	}
	for _, r := range results {
		if r.Requests == 0 || r.Errors != 0 {
			t.Errorf("%s: %d requests, %d errors", r.Scenario, r.Requests, r.Errors)
		}
	}
}
