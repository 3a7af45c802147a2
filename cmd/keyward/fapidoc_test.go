package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fapiDoc is docs/FAPI.md, from this package's directory.
const fapiDoc = "../../docs/FAPI.md"

// TestFAPIDocCitesRealTests keeps docs/FAPI.md honest the way
// TestSecurityDocCitesRealTests keeps docs/SECURITY.md: every test it
// cites exists, and every row of its tables cites a test or says why not.
func TestFAPIDocCitesRealTests(t *testing.T) {
	b, err := os.ReadFile(fapiDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	cited := map[string][]string{}
	for _, m := range citedTest.FindAllStringSubmatch(doc, -1) {
		if !slices.Contains(cited[m[1]], m[2]) {
			cited[m[1]] = append(cited[m[1]], m[2])
		}
	}
	if len(cited) == 0 {
		t.Fatalf("%s cites no test", fapiDoc)
	}
	for pkg, names := range cited {
		have, err := testFuncs(filepath.Join("..", "..", filepath.FromSlash(pkg)))
		if err != nil {
			t.Errorf("%s: %v", pkg, err)
			continue
		}
		for _, name := range names {
			if !have[name] {
				t.Errorf("%s cites %s.%s: no such test in %s/*_test.go", fapiDoc, pkg, name, pkg)
			}
		}
	}
	for i, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|---") || strings.Contains(line, "| Proof |") {
			continue
		}
		if !citedTest.MatchString(line) && !unproven.MatchString(line) {
			t.Errorf("%s:%d: a row with neither a test nor a mark:\n%s", fapiDoc, i+1, line)
		}
	}
}
