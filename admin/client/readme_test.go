package client_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeExampleCompiles type-checks the Go block of the README's
// "Remote mode of the CLI" section against this package as generated, so
// the example follows the OpenAPI document's names.
func TestReadmeExampleCompiles(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme)
	start := strings.Index(section, "### Remote mode of the CLI")
	if start < 0 {
		t.Fatal("README has no section \"Remote mode of the CLI\"")
	}
	section = section[start+4:]
	if end := regexp.MustCompile(`\n#{1,3} `).FindStringIndex(section); end != nil {
		section = section[:end[0]]
	}
	block := regexp.MustCompile("(?s)```go\n(.*?)```").FindStringSubmatch(section)
	if block == nil {
		t.Fatal("the section has no Go block")
	}
	src := `package readme

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/keyward/keyward/admin/client"
)

func _(ctx context.Context, name string) {
` + block[1] + "}\n"
	dir := t.TempDir()
	file := filepath.Join(dir, "readme.go")
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	target, _ := filepath.Abs("readmeexample/readme.go")
	overlay, _ := json.Marshal(map[string]any{"Replace": map[string]string{target: file}})
	if err := os.WriteFile(filepath.Join(dir, "overlay.json"), overlay, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "build", "-overlay", filepath.Join(dir, "overlay.json"), "-o", os.DevNull, "./readmeexample").CombinedOutput()
	if err != nil {
		t.Fatalf("the README's admin client example does not compile:\n%s\n%s", out, src)
	}
}
