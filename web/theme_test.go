package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyward/keyward/web"
)

func TestBrandChecks(t *testing.T) {
	for _, c := range []string{"", "#abc", "#A1B2C3"} {
		if err := web.CheckAccentColor(c); err != nil {
			t.Errorf("accent %q: %v", c, err)
		}
	}
	for _, c := range []string{"red", "#abcd", "#12345", "abc", "#ggg", "#abc;", "#abc}body{", "rgb(1,2,3)"} {
		if err := web.CheckAccentColor(c); err == nil {
			t.Errorf("accent %q accepted", c)
		}
	}
	for _, u := range []string{"", "https://cdn.example/logo.svg", "/static/logo.png", "/static/img/logo.svg"} {
		if err := web.CheckLogoURL(u); err != nil {
			t.Errorf("logo %q: %v", u, err)
		}
	}
	for _, u := range []string{"http://cdn.example/logo.svg", "javascript:alert(1)", "data:image/png;base64,AA", "/static/../secret",
		"/static/", "/logo.png", "//cdn.example/logo.png", "https://user@cdn.example/l.png", "https:///l.png", `/static/a"b.png`} {
		if err := web.CheckLogoURL(u); err == nil {
			t.Errorf("logo %q accepted", u)
		}
	}
}

func TestNewThemeRefuses(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	write(t, file, "x")
	for name, tc := range map[string]struct {
		dir   string
		brand web.Brand
		want  string
	}{
		"bad accent":          {"", web.Brand{AccentColor: "blue"}, "accent colour"},
		"http logo":           {"", web.Brand{LogoURL: "http://x.example/l.png"}, "logo URL"},
		"missing static logo": {"", web.Brand{LogoURL: "/static/nope.png"}, "/static/nope.png"},
		"blank name":          {"", web.Brand{ProductName: "   "}, "product name"},
		"no such dir":         {filepath.Join(t.TempDir(), "absent"), web.Brand{}, "theme directory"},
		"a file":              {file, web.Brand{}, "not a directory"},
	} {
		if _, err := web.NewTheme(tc.dir, tc.brand); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error about %s", name, err, tc.want)
		}
	}
}

func TestThemeTemplates(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "templates", "message.html"), `{{template "top" .}}<p class="custom">{{.}}</p>{{template "bottom" .}}`)
	th, err := web.NewTheme(dir, web.Brand{})
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := th.Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if m := tpl.Lookup("message.html"); m == nil || !strings.Contains(m.Tree.Root.String(), `<p class="custom">`) {
		t.Fatalf("message.html is not the theme's")
	}
	if l := tpl.Lookup("login.html"); l == nil || !strings.Contains(l.Tree.Root.String(), `action="/login"`) {
		t.Fatalf("login.html is not the built-in one")
	}
	if got := th.TemplatePath("message.html"); got != filepath.Join(dir, "templates", "message.html") {
		t.Errorf("TemplatePath = %q", got)
	}
	if got := th.TemplatePath("login.html"); got != "built-in login.html" {
		t.Errorf("TemplatePath = %q", got)
	}

	broken := t.TempDir()
	write(t, filepath.Join(broken, "templates", "login.html"), `{{template "top" .}}{{if .Error}}unclosed`)
	th, err = web.NewTheme(broken, web.Brand{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := th.Parse(nil); err == nil || !strings.Contains(err.Error(), filepath.Join(broken, "templates", "login.html")) {
		t.Errorf("a broken override: %v, want an error naming the file", err)
	}

	typo := t.TempDir()
	write(t, filepath.Join(typo, "templates", "logn.html"), `x`)
	th, err = web.NewTheme(typo, web.Brand{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := th.Parse(nil); err == nil || !strings.Contains(err.Error(), "logn.html") || !strings.Contains(err.Error(), "not a page template") {
		t.Errorf("an unknown template: %v", err)
	}
}

func TestThemeStatic(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "static", "style.css"), "body{color:red}")
	write(t, filepath.Join(dir, "static", "logo.svg"), "<svg/>")
	th, err := web.NewTheme(dir, web.Brand{AccentColor: "#0A0", LogoURL: "/static/logo.svg"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.StripPrefix("/static", th.StaticHandler()))
	defer srv.Close()
	for path, want := range map[string]string{
		"/static/style.css":  "body{color:red}",                          // replaced
		"/static/logo.svg":   "<svg/>",                                   // added
		"/static/passkey.js": "'use strict'",                             // built-in
		"/static/theme.css":  ":root { --accent: #00aa00; --on-accent: ", // generated
	} {
		code, body, ctype := fetch(t, srv.URL+path)
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("GET %s = %d %q, want %q", path, code, body, want)
		}
		if path == "/static/theme.css" && !strings.HasPrefix(ctype, "text/css") {
			t.Errorf("theme.css Content-Type %q", ctype)
		}
	}
	for _, path := range []string{"/static/", "/static/nope.css", "/static/../web.go"} {
		if code, _, _ := fetch(t, srv.URL+path); code != 404 {
			t.Errorf("GET %s = %d, want 404", path, code)
		}
	}
	// A theme's own theme.css wins over the generated one.
	write(t, filepath.Join(dir, "static", "theme.css"), ":root{--accent:#123456}")
	if _, body, _ := fetch(t, srv.URL+"/static/theme.css"); body != ":root{--accent:#123456}" {
		t.Errorf("theme.css override: %q", body)
	}
}

func fetch(t *testing.T, u string) (int, string, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header.Get("Content-Type")
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
