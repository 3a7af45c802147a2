package main

import (
	"strings"
	"testing"
)

// TestAPIKeyEnv: --api-key-env test makes the CLI issue kw_test_ keys and
// a server accept them; a live server answers NOT_FOUND to them, and the
// CLI refuses an --env that differs from the setting.
func TestAPIKeyEnv(t *testing.T) {
	e := sqliteEnv(t)
	c := e.newClient("--name", "resource-server", "--grant-type", "client_credentials")
	kc := &keysCluster{e: e, clientID: c.ClientID, secret: c.ClientSecret}

	var k struct{ Key, Prefix string }
	e.runJSON(&k, "", "apikeys", "create", "--name", "ci", "--api-key-env", "test")
	if !strings.HasPrefix(k.Key, "kw_test_") || !strings.HasPrefix(k.Prefix, "kw_test_") {
		t.Fatalf("create with --api-key-env test: key %.12q prefix %q", k.Key, k.Prefix)
	}
	t.Setenv("KEYWARD_API_KEY_ENV", "test")
	var alias struct{ Key string }
	e.runJSON(&alias, "", "apikeys", "create", "--name", "ci", "--env", "test") // --env may repeat the setting
	if !strings.HasPrefix(alias.Key, "kw_test_") {
		t.Fatalf("KEYWARD_API_KEY_ENV=test --env test: key %.12q", alias.Key)
	}
	t.Setenv("KEYWARD_API_KEY_ENV", "")

	for _, bad := range [][]string{
		{"apikeys", "create", "--name", "x", "--env", "test"}, // differs from the (default) setting
		{"apikeys", "list", "--api-key-env", "staging"},
		{"serve", "--api-key-env", "prod", "--public-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"},
	} {
		if code, _, stderr := e.run("", bad...); code != 2 || !strings.Contains(stderr, "api-key-env") {
			t.Errorf("%v: exit %d, want 2 naming --api-key-env:\n%s", bad, code, stderr)
		}
	}

	s := e.serve("--api-key-env", "test")
	if got := kc.verifyKey(t, s, k.Key); got["code"] != "VALID" {
		t.Errorf("test server, kw_test_ key: %v", got)
	}
	s.stop()
	s = e.serve()
	if got := kc.verifyKey(t, s, k.Key); got["code"] != "NOT_FOUND" {
		t.Errorf("live server, kw_test_ key: %v", got)
	}
}
