package main

import (
	"strings"
	"testing"
)

// TestUIURLSettings: --login-ui-url and --consent-ui-url (and their
// variables) must be absolute http(s) URLs; both problems are reported
// at once, and serve does not start.
func TestUIURLSettings(t *testing.T) {
	e := sqliteEnv(t)
	t.Setenv("KEYWARD_CONSENT_UI_URL", "/consent")
	code, _, stderr := e.run("", "serve", "--public-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0",
		"--login-ui-url", "ftp://app.example/login")
	if code != 2 || !strings.Contains(stderr, "--login-ui-url") || !strings.Contains(stderr, "--consent-ui-url") {
		t.Fatalf("bad UI URLs: exit %d\n%s", code, stderr)
	}
}
