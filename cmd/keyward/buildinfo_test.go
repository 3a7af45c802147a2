package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestVersionInjected builds the binary as the Makefile and Dockerfile do,
// with the version, commit and date given to the linker, and reads them
// back from `keyward version --format json`.
func TestVersionInjected(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "keyward")
	ldflags := "-X main.Version=9.8.7 -X main.Commit=0123abc -X main.BuildDate=2026-12-05T10:00:00Z"
	build := exec.Command("go", "build", "-ldflags", ldflags, "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version", "--format", "json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var v buildInfo
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if v != (buildInfo{Version: "9.8.7", Commit: "0123abc", BuildDate: "2026-12-05T10:00:00Z", Go: runtime.Version()}) {
		t.Fatalf("version = %+v", v)
	}
}

func TestPublishedAdminURL(t *testing.T) {
	for _, c := range []struct{ admin, issuer, want string }{
		{"http://0.0.0.0:8081", "https://id.example.com", "http://id.example.com:8081"},
		{"http://[::]:8081", "http://127.0.0.1:8080", "http://127.0.0.1:8081"},
		{"http://127.0.0.1:8081", "https://id.example.com", "http://127.0.0.1:8081"},
		{"https://10.0.0.5:9000", "https://id.example.com", "https://10.0.0.5:9000"},
	} {
		if got := publishedAdminURL(c.admin, c.issuer); got != c.want {
			t.Errorf("publishedAdminURL(%q, %q) = %q, want %q", c.admin, c.issuer, got, c.want)
		}
	}
}
