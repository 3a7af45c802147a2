package verify_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsNothingFromKeyward: a resource server can depend on verify
// (and ginverify) alone; neither imports the server's packages.
func TestImportsNothingFromKeyward(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".", "./ginverify").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "github.com/keyward/keyward/") &&
			p != "github.com/keyward/keyward/authz/verify" && p != "github.com/keyward/keyward/authz/verify/ginverify" {
			t.Errorf("authz/verify depends on %s", p)
		}
	}
}
