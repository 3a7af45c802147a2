package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// TestWrongSecretRefused: a database remembers the fingerprint of the
// secret it was first used with; serve and every command refuse another
// one (exit 2) instead of writing what the other instances cannot read.
func TestWrongSecretRefused(t *testing.T) {
	t.Parallel()
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

// TestWrongSecretNotPinned: a database from before the fingerprint (signing
// keys, no fingerprint) does not let the first process with a wrong secret
// record its fingerprint: the secret must open the keys first.
func TestWrongSecretNotPinned(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	e.serve().stop() // signing keys sealed with the generated secret
	db, err := sql.Open("sqlite", "file:"+filepath.Join(e.dataDir, "keyward.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(context.Background(), `DELETE FROM settings`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, _, stderr := e.run("", "clients", "list", "--secret", "another-secret-of-at-least-32-bytes-0000")
	if code != 2 || !strings.Contains(stderr, "not the one this database was created with") {
		t.Fatalf("wrong secret on a database without a fingerprint: exit %d, %s", code, stderr)
	}
	if code, _, stderr := e.run("", "clients", "list"); code != 0 {
		t.Fatalf("the right secret after a refused wrong one: exit %d, %s", code, stderr)
	}
}
