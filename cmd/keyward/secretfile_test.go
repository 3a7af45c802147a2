package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeSecretFile writes content to a new file of the test and returns its path.
func writeSecretFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSecretFile: --secret-file (and KEYWARD_SECRET_FILE) gives the system
// secret to a management command and to serve, one trailing newline
// dropped; on PostgreSQL it stands for the required --secret.
func TestSecretFile(t *testing.T) {
	engines(t, func(t *testing.T, e *env) {
		e.secret = "" // no --secret: the file gives it
		const secret = "a-secret-from-a-file-0123456789abcdef"
		file := writeSecretFile(t, secret+"\n")

		if code, _, stderr := e.run("", "clients", "create", "--name", "first", "--secret-file", file); code != 0 {
			t.Fatalf("clients create --secret-file: exit %d\n%s", code, stderr)
		}
		// The database now knows the file's secret, without its newline.
		given := *e
		given.secret = secret
		args := []string{"clients", "list"}
		if e.dbURL == "" {
			args = append(args, "--secret", secret) // e.args adds it for PostgreSQL only
		}
		if code, out, stderr := given.run("", args...); code != 0 || !strings.Contains(out, "first") {
			t.Fatalf("clients list --secret <the file's content>: exit %d\n%s%s", code, out, stderr)
		}
		t.Setenv("KEYWARD_SECRET_FILE", file)
		if code, out, stderr := e.run("", "clients", "list"); code != 0 || !strings.Contains(out, "first") {
			t.Fatalf("clients list with KEYWARD_SECRET_FILE: exit %d\n%s%s", code, out, stderr)
		}

		s := e.serve("--secret-file", file)
		if code, body := get(t, s.PublicURL+"/readyz"); code != 200 {
			t.Fatalf("serve --secret-file: readyz %d %s", code, body)
		}
		s.stop()
		// serve really reads the file: another secret in it is refused.
		other := writeSecretFile(t, "another-secret-of-at-least-32-bytes-0000\n")
		code, _, stderr := e.run("", "serve", "--secret-file", other, "--public-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0")
		if code != 2 || !strings.Contains(stderr, "not the one this database was created with") {
			t.Fatalf("serve --secret-file with another secret: exit %d\n%s", code, stderr)
		}
	})
}

// TestSecretFileProblems: both --secret and --secret-file, an unreadable
// file and a short secret in it are settings problems (exit 2), reported
// with the others, for serve and the management commands alike.
func TestSecretFileProblems(t *testing.T) {
	e := sqliteEnv(t)
	good := writeSecretFile(t, strings.Repeat("s", 32)+"\n")
	short := writeSecretFile(t, strings.Repeat("s", 31)+"\n")
	missing := filepath.Join(t.TempDir(), "nope")
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"both", []string{"clients", "list", "--secret", strings.Repeat("x", 32), "--secret-file", good},
			[]string{"--secret and --secret-file: give one of them, not both"}},
		{"both to serve", []string{"serve", "--secret", strings.Repeat("x", 32), "--secret-file", good},
			[]string{"--secret and --secret-file: give one of them, not both"}},
		{"short", []string{"apikeys", "list", "--secret-file", short},
			[]string{"--secret-file " + short + ": must be at least 32 bytes (got 31)"}},
		{"missing", []string{"keys", "list", "--secret-file", missing}, []string{"--secret-file: open " + missing}},
		{"together", []string{"serve", "--secret-file", short, "--log-format", "xml"},
			[]string{"2 problems:", "--secret-file " + short, "--log-format"}},
		{"postgres with a short file", []string{"clients", "list", "--database-url", "postgres://nobody@127.0.0.1:1/x?connect_timeout=2",
			"--secret-file", short}, []string{"--secret-file " + short, "database unreachable"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if stderr := settingsProblem(t, e, tc.args, tc.want...); strings.Contains(stderr, "required with PostgreSQL") {
				t.Errorf("a secret file was given, yet the secret is called missing:\n%s", stderr)
			}
		})
	}
	t.Setenv("KEYWARD_SECRET", strings.Repeat("x", 32))
	t.Setenv("KEYWARD_SECRET_FILE", good)
	settingsProblem(t, e, []string{"clients", "list"}, "--secret and --secret-file: give one of them, not both")
}
