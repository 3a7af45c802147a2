package main

import (
	"net"
	"os"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
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
	for _, want := range []string{"CGO_ENABLED=0", "USER 65532", "./cmd/keyward"} {
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
