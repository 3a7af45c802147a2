package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestReleaseConfigMatchesMakefile: .goreleaser.yaml builds this command
// for linux, darwin and windows on amd64 and arm64, like `make build`:
// CGO off, -trimpath, and the same -X variables (main.Version, Commit,
// BuildDate), each set from GoReleaser's value for it; it writes a
// checksums file. (`make release-check` runs GoReleaser's own check.)
func TestReleaseConfigMatchesMakefile(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../.goreleaser.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Version int `yaml:"version"`
		Builds  []struct {
			Main    string   `yaml:"main"`
			Binary  string   `yaml:"binary"`
			Env     []string `yaml:"env"`
			Flags   []string `yaml:"flags"`
			LDFlags []string `yaml:"ldflags"`
			GOOS    []string `yaml:"goos"`
			GOARCH  []string `yaml:"goarch"`
		} `yaml:"builds"`
		Archives []map[string]any `yaml:"archives"`
		Checksum struct {
			NameTemplate string `yaml:"name_template"`
		} `yaml:"checksum"`
	}
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Version != 2 || len(cfg.Builds) != 1 || len(cfg.Archives) == 0 || cfg.Checksum.NameTemplate == "" {
		t.Fatalf("want version 2, one build, archives and a checksum: %+v", cfg)
	}
	b := cfg.Builds[0]
	if b.Main != "./cmd/keyward" || b.Binary != "keyward" {
		t.Errorf("build main %q binary %q", b.Main, b.Binary)
	}
	for _, os := range []string{"linux", "darwin", "windows"} {
		if !slices.Contains(b.GOOS, os) {
			t.Errorf("goos lacks %s", os)
		}
	}
	for _, arch := range []string{"amd64", "arm64"} {
		if !slices.Contains(b.GOARCH, arch) {
			t.Errorf("goarch lacks %s", arch)
		}
	}

	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	build := string(mk)[strings.Index(string(mk), "\nbuild:"):]
	build = build[:strings.Index(build, "\n\n")]
	xvar := regexp.MustCompile(`-X (main\.\w+)=(\S+)`)
	vars := func(s string) map[string]string {
		out := map[string]string{}
		for _, m := range xvar.FindAllStringSubmatch(s, -1) {
			out[m[1]] = strings.Trim(m[2], `"`)
		}
		return out
	}
	want, got := vars(build), vars(strings.Join(b.LDFlags, " "))
	// The Makefile's value of each variable and GoReleaser's for it.
	same := map[string]string{"$(VERSION)": "{{.Version}}", "$(COMMIT)": "{{.FullCommit}}", "$(DATE)": "{{.Date}}"}
	if len(want) != 3 {
		t.Fatalf("the Makefile's build sets %v", want)
	}
	for name, mv := range want {
		gv, ok := got[name]
		switch {
		case !ok:
			t.Errorf(".goreleaser.yaml does not set %s", name)
		case gv != same[mv]:
			t.Errorf("%s: the Makefile sets %s, .goreleaser.yaml %s", name, mv, gv)
		}
	}
	if len(got) != len(want) {
		t.Errorf("-X variables: Makefile %v, .goreleaser.yaml %v", want, got)
	}
	if !strings.Contains(build, "CGO_ENABLED=0") || !slices.Contains(b.Env, "CGO_ENABLED=0") {
		t.Error("CGO_ENABLED=0 in one but not both")
	}
	if !strings.Contains(build, "-trimpath") || !slices.Contains(b.Flags, "-trimpath") {
		t.Error("-trimpath in one but not both")
	}
}
