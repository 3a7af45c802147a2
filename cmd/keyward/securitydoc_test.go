package main

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// securityDoc is docs/SECURITY.md, from this package's directory.
const securityDoc = "../../docs/SECURITY.md"

// citedTest is a test cited as proof: a package, as its directory under
// the module root, a dot and a Test or Fuzz function (authz.TestTokenType,
// cmd/keyward.TestE2EBadInput).
var citedTest = regexp.MustCompile(`\b([a-z][a-z0-9_]*(?:/[a-z][a-z0-9_]*)*)\.((?:Test|Fuzz)[A-Z0-9_][A-Za-z0-9_]*)\b`)

// unproven marks a row that says why it cites no test.
var unproven = regexp.MustCompile(`\*\*(N/A|Not yet|No test yet)\b`)

// TestSecurityDocCitesRealTests keeps docs/SECURITY.md honest: every test
// it cites exists as a Test or Fuzz function in that package's *_test.go
// files, and every row of its tables cites a test or carries a mark
// (N/A, Not yet, No test yet) saying why it has none.
func TestSecurityDocCitesRealTests(t *testing.T) {
	b, err := os.ReadFile(securityDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)

	cited := map[string][]string{} // package -> test names
	for _, m := range citedTest.FindAllStringSubmatch(doc, -1) {
		if !slices.Contains(cited[m[1]], m[2]) {
			cited[m[1]] = append(cited[m[1]], m[2])
		}
	}
	if len(cited) == 0 {
		t.Fatalf("%s cites no test", securityDoc)
	}
	pkgs := make([]string, 0, len(cited))
	for pkg := range cited {
		pkgs = append(pkgs, pkg)
	}
	slices.Sort(pkgs)
	for _, pkg := range pkgs {
		have, err := testFuncs(filepath.Join("..", "..", filepath.FromSlash(pkg)))
		if err != nil {
			t.Errorf("%s: %v", pkg, err)
			continue
		}
		names := cited[pkg]
		slices.Sort(names)
		for _, name := range names {
			if !have[name] {
				t.Errorf("%s cites %s.%s: no such test in %s/*_test.go", securityDoc, pkg, name, pkg)
			}
		}
	}

	for i, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|---") || strings.Contains(line, "| Proof |") {
			continue
		}
		if !citedTest.MatchString(line) && !unproven.MatchString(line) {
			t.Errorf("%s:%d: a row with neither a test nor a mark:\n%s", securityDoc, i+1, line)
		}
	}
}

// testFuncs returns the Test and Fuzz functions of the *_test.go files in
// dir, internal and external test packages alike.
func testFuncs(dir string) (map[string]bool, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errors.New("no *_test.go files (is the package path right?)")
	}
	fset := token.NewFileSet()
	funcs := map[string]bool{}
	for _, path := range files {
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("parse: %w", err)
		}
		for _, d := range f.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && testingParam(fn) {
				funcs[fn.Name.Name] = true
			}
		}
	}
	return funcs, nil
}

// testingParam reports whether fn takes one *testing.T (a Test function)
// or one *testing.F (a Fuzz function), as go test requires.
func testingParam(fn *ast.FuncDecl) bool {
	params := fn.Type.Params.List
	if len(params) != 1 || len(params[0].Names) > 1 {
		return false
	}
	star, ok := params[0].Type.(*ast.StarExpr)
	if !ok {
		return false
	}
	sel, ok := star.X.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	switch {
	case strings.HasPrefix(fn.Name.Name, "Test"):
		return sel.Sel.Name == "T"
	case strings.HasPrefix(fn.Name.Name, "Fuzz"):
		return sel.Sel.Name == "F"
	}
	return false
}
