package main

import (
	"strings"
	"testing"
)

// TestWrongSecretRefused: a database remembers the fingerprint of the
// secret it was first used with; serve and every command refuse another
// one (exit 2) instead of writing what the other instances cannot read.
func TestWrongSecretRefused(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		e.newClient("--name", "first")
		other := *e
		other.secret = "another-secret-of-at-least-32-bytes-0000"
		if e.dbURL == "" {
			// SQLite: the generated <data-dir>/secret is what was used;
			// --secret overrides it.
			code, _, stderr := other.run("", "clients", "list", "--secret", other.secret)
			if code != 2 || !strings.Contains(stderr, "not the one this database was created with") {
				t.Fatalf("clients list with another secret: exit %d, %s", code, stderr)
			}
		} else {
			code, _, stderr := other.run("", "clients", "create", "--name", "second")
			if code != 2 || !strings.Contains(stderr, "not the one this database was created with") {
				t.Fatalf("clients create with another secret: exit %d, %s", code, stderr)
			}
			code, _, stderr = other.run("", "serve", "--public-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0")
			if code != 2 || !strings.Contains(stderr, "not the one this database was created with") {
				t.Fatalf("serve with another secret: exit %d, %s", code, stderr)
			}
		}
		// The right secret still works, and nothing was written.
		code, out, stderr := e.run("", "clients", "list", "--format", "json")
		if code != 0 || strings.Contains(out, "second") {
			t.Fatalf("clients list: exit %d, %s %s", code, out, stderr)
		}
	})
}
