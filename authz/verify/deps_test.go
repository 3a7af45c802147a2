package verify_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsNothingFromKeyward: a resource server can depend on verify
// alone: it and verifytest need only the standard library and go-jose,
// and ginverify adds gin; none imports the server's packages.
func TestImportsNothingFromKeyward(t *testing.T) {
	const mod = "github.com/keyward/keyward/"
	own := map[string]bool{mod + "authz/verify": true, mod + "authz/verify/ginverify": true, mod + "authz/verify/verifytest": true}
	for pkg, allowed := range map[string][]string{
		".":            {"github.com/go-jose/go-jose/v4"},
		"./verifytest": {"github.com/go-jose/go-jose/v4"},
		"./ginverify":  nil, // gin and its dependencies
	} {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, p := range strings.Fields(string(out)) {
			switch {
			case own[p]:
			case strings.HasPrefix(p, mod):
				t.Errorf("%s depends on %s", pkg, p)
			case allowed != nil && !hasPrefixAny(p, allowed):
				t.Errorf("%s depends on %s: only the standard library and go-jose are allowed", pkg, p)
			}
		}
	}
}

func hasPrefixAny(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
