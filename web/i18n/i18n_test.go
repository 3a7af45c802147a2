package i18n_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyward/keyward/web/i18n"
)

func TestPick(t *testing.T) {
	c, err := i18n.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ ui, accept, want string }{
		{"", "", "en"},
		{"de", "", "de"},
		{"de-DE", "en", "de"},
		{"fr-CA de en", "", "de"}, // the first served one
		{"xx", "", "en"},
		{"xx", "de-CH,de;q=0.9", "de"}, // no ui_locales match: Accept-Language
		{"", "de-CH", "de"},
		{"", "de-AT,en;q=0.5", "de"},
		{"", "fr-FR,fr;q=0.9,en;q=0.8", "en"},
		{"", "fr", "en"},
		{"en", "de", "en"}, // ui_locales wins
		{"!!! %%%", "not a header;;", "en"},
		{strings.Repeat("d", 100), strings.Repeat("x", 2000), "en"},
	} {
		if got := c.Pick(tc.ui, tc.accept).Lang; got != tc.want {
			t.Errorf("Pick(%q, %q) = %s, want %s", tc.ui, tc.accept, got, tc.want)
		}
	}
}

func TestMissingKeyShowsSentinel(t *testing.T) {
	c, err := i18n.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	de := c.Printer("de")
	if got := de.T("Sign in"); got != "Anmelden" {
		t.Errorf("de Sign in = %q", got)
	}
	if got := de.T("no such key %s", "x"); got != i18n.Missing("no such key %s") {
		t.Errorf("a missing key renders %q, want the sentinel", got)
	}
	if got := de.T("You are signed in as %s.", "ada"); got != "Sie sind als ada angemeldet." {
		t.Errorf("formatting: %q", got)
	}
}

// TestOverrides: a theme's locales/ replaces texts and adds languages; a
// file that is not a catalogue fails Load naming it.
func TestOverrides(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "en.json"), `{"Sign in": "Log in"}`)
	write(t, filepath.Join(dir, "fr.json"), `{"Sign in": "Se connecter"}`)
	c, err := i18n.Load(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Printer("en").T("Sign in"); got != "Log in" {
		t.Errorf("en override: %q", got)
	}
	if got := c.Pick("fr", "").T("Sign in"); got != "Se connecter" {
		t.Errorf("added fr: %q", got)
	}
	if got := c.Pick("fr", "").T("Password"); got != i18n.Missing("Password") {
		t.Errorf("an incomplete added language shows %q, want the sentinel", got)
	}
	write(t, filepath.Join(dir, "de.json"), `["not", "an object"]`)
	if _, err := i18n.Load(os.DirFS(dir)); err == nil || !strings.Contains(err.Error(), "de.json") {
		t.Errorf("a bad catalogue: %v", err)
	}
	bad := t.TempDir()
	write(t, filepath.Join(bad, "german.json"), `{}`)
	if _, err := i18n.Load(os.DirFS(bad)); err == nil || !strings.Contains(err.Error(), "german.json") {
		t.Errorf("a file name that is no language tag: %v", err)
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
