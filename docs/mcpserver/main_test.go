package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestWalkthroughListing: the Go listing of docs/MCP.md is this program
// (from its package clause on), so the walkthrough shows the code that
// builds and that cmd/keyward's TestE2EMCP runs.
func TestWalkthroughListing(t *testing.T) {
	doc, err := os.ReadFile("../MCP.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllSubmatch(doc, -1)
	if len(blocks) != 1 {
		t.Fatalf("docs/MCP.md has %d Go listings, want 1", len(blocks))
	}
	program := string(src)
	program = program[strings.Index(program, "package main"):]
	if got := string(blocks[0][1]); got != program {
		t.Errorf("the listing in docs/MCP.md is not docs/mcpserver/main.go from its package clause; copy the file into it.\nlisting:\n%s", got)
	}
}
