package verify_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeExampleCompiles type-checks the Go blocks of the README's
// "Resource servers in Go" section against this package as it is, so the
// example cannot drift from the API (issue 15).
func TestReadmeExampleCompiles(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme)
	start := strings.Index(section, "## Resource servers in Go")
	if start < 0 {
		t.Fatal("README has no section \"Resource servers in Go\"")
	}
	section = section[start+3:]
	section = section[:strings.Index(section, "\n## ")]
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(section, -1)
	if len(blocks) < 2 {
		t.Fatalf("want the middleware and the verifytest blocks, found %d", len(blocks))
	}
	declared := regexp.MustCompile(`(?m)^\s*([\w, ]+?)\s*:=`)
	var src strings.Builder
	src.WriteString(`package readme

import (
	"context"
	"log"
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/verify"
	"github.com/keyward/keyward/authz/verify/ginverify"
	"github.com/keyward/keyward/authz/verify/verifytest"
)

var (
	_ = log.Fatal
	_ = ginverify.RequireToken
	_ = verifytest.New
	_ = verify.New
)
`)
	for _, b := range blocks {
		src.WriteString("\nfunc _(ctx context.Context, mux *http.ServeMux, r *gin.Engine, listInvoices http.Handler, listInvoicesGin gin.HandlerFunc, t *testing.T) {\n")
		src.WriteString(b[1])
		for _, m := range declared.FindAllStringSubmatch(b[1], -1) {
			for _, name := range strings.Split(m[1], ",") {
				if name = strings.TrimSpace(name); name != "_" && name != "err" {
					src.WriteString("\t_ = " + name + "\n")
				}
			}
		}
		src.WriteString("}\n")

	}
	// An overlay puts the file in this module without touching the tree.
	dir := t.TempDir()
	file := filepath.Join(dir, "readme.go")
	if err := os.WriteFile(file, []byte(src.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	target, _ := filepath.Abs("readmeexample/readme.go")
	overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{target: file}})
	if err := os.WriteFile(filepath.Join(dir, "overlay.json"), overlay, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "build", "-overlay", filepath.Join(dir, "overlay.json"), "-o", os.DevNull, "./readmeexample").CombinedOutput()
	if err != nil {
		t.Fatalf("the README's Go example does not compile:\n%s\n%s", out, src.String())
	}
}
