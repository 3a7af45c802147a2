package main

import (
	"net"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/keyward/keyward/keys"
)

// TestComposeFile checks docker-compose.yml against the settings table,
// since no Docker engine runs here to try it.
func TestComposeFile(t *testing.T) {
	b, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Build       any               `yaml:"build"`
			Environment map[string]string `yaml:"environment"`
			Ports       []string          `yaml:"ports"`
			DependsOn   map[string]struct {
				Condition string `yaml:"condition"`
			} `yaml:"depends_on"`
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
			Restart string `yaml:"restart"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("docker-compose.yml does not parse: %v", err)
	}
	pg, ok := doc.Services["postgres"]
	if !ok || !strings.HasPrefix(pg.Image, "postgres:") || len(pg.Healthcheck.Test) == 0 {
		t.Fatalf("want a postgres service with a healthcheck: %+v", pg)
	}
	kw, ok := doc.Services["keyward"]
	if !ok || kw.Build == nil {
		t.Fatal("want a keyward service built from the Dockerfile")
	}
	if kw.DependsOn["postgres"].Condition != "service_healthy" {
		t.Error("keyward must wait for a healthy postgres")
	}
	if len(kw.Healthcheck.Test) == 0 || !strings.Contains(strings.Join(kw.Healthcheck.Test, " "), "healthcheck") {
		t.Error("keyward needs a healthcheck (keyward healthcheck)")
	}
	if kw.Restart != "unless-stopped" {
		t.Errorf("keyward restart = %q, want unless-stopped", kw.Restart)
	}
	known := map[string]bool{}
	for _, s := range settings {
		known[s.env] = true
	}
	for k := range kw.Environment {
		if !known[k] {
			t.Errorf("environment %s is not a setting of the config table", k)
		}
	}
	if u := kw.Environment["KEYWARD_DATABASE_URL"]; !strings.HasPrefix(u, "postgres://") || !strings.Contains(u, "@postgres:") {
		t.Errorf("KEYWARD_DATABASE_URL = %q, want the postgres service", u)
	}
	if s := kw.Environment["KEYWARD_SECRET"]; !regexp.MustCompile(`^\$\{KEYWARD_SECRET:\?`).MatchString(s) {
		t.Errorf("KEYWARD_SECRET = %q: must come from the environment and be required", s)
	}
	ports := map[string]string{}
	for _, p := range kw.Ports {
		parts := strings.Split(p, ":")
		ports[parts[len(parts)-1]] = p
	}
	for _, addr := range []string{kw.Environment["KEYWARD_PUBLIC_ADDR"], kw.Environment["KEYWARD_ADMIN_ADDR"]} {
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Errorf("listen address %q: %v", addr, err)
			continue
		}
		if _, ok := ports[port]; !ok {
			t.Errorf("container port %s is not published: %v", port, kw.Ports)
		}
	}
}

// TestDockerfile checks the image is multi-stage, static and non-root.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if strings.Count(s, "\nFROM ")+boolInt(strings.HasPrefix(s, "FROM ")) < 2 {
		t.Error("want a multi-stage build")
	}
	for _, want := range []string{"CGO_ENABLED=0", "USER 65532", "./cmd/keyward",
		// The version, commit and date reach `keyward version`, the
		// keyward_build_info metric and the image labels.
		"-X main.Version=${VERSION}", "-X main.Commit=${COMMIT}", "-X main.BuildDate=${DATE}",
		"org.opencontainers.image.version", `HEALTHCHECK`, `CMD ["/usr/local/bin/keyward", "healthcheck"]`} {
		if !strings.Contains(s, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestREADMESettings checks the README's configuration table against the
// real flags: every flag of serve and the management commands has a row
// with its variable and its default, and every row is a real flag.
func TestREADMESettings(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| `--") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.Trim(strings.TrimSpace(cells[i]), "`")
		}
		rows[strings.TrimPrefix(cells[0], "--")] = cells
	}
	var c Config
	fs := pflag.NewFlagSet("all", pflag.ContinueOnError)
	c.bindCommon(fs)
	c.bindServe(fs)
	fs.VisitAll(func(f *pflag.Flag) {
		row, ok := rows[f.Name]
		if !ok {
			t.Errorf("README: no row for --%s", f.Name)
			return
		}
		delete(rows, f.Name)
		if len(row) < 4 {
			t.Errorf("README: row for --%s has %d cells", f.Name, len(row))
			return
		}
		if env := settings[f.Name].env; row[1] != env {
			t.Errorf("README: --%s has variable %q, want %q", f.Name, row[1], env)
		}
		def := row[2]
		switch {
		case f.DefValue == "": // documented in words: generated, none, …
		case f.Value.Type() == "duration":
			if d, err := keys.ParseDuration(def); err != nil || d.String() != f.DefValue { // the README may write days
				t.Errorf("README: --%s default %q, want %s", f.Name, def, f.DefValue)
			}
		case f.Value.Type() == "bool":
			if (def == "off") != (f.DefValue == "false") {
				t.Errorf("README: --%s default %q, want %s", f.Name, def, f.DefValue)
			}
		case def != f.DefValue:
			t.Errorf("README: --%s default %q, want %q", f.Name, def, f.DefValue)
		}
	})
	for name := range rows {
		t.Errorf("README: --%s is not a flag", name)
	}
}

// TestDockerignore: COPY . . must not send local data or secrets into
// the image build.
func TestDockerignore(t *testing.T) {
	b, err := os.ReadFile("../../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	for _, want := range []string{".git", "**/keyward-data", "bin/", "**/*.db", "**/secret", ".env"} {
		if !lines[want] {
			t.Errorf(".dockerignore lacks %q", want)
		}
	}
}
