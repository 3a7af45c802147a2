package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestIndentJoined: a joined list is walked, not split on newlines, so a
// multi-line problem (pgx's connection errors) counts once and keeps its
// continuation lines under it.
func TestIndentJoined(t *testing.T) {
	pgx := errors.New("database: failed to connect:\n\t127.0.0.1:1: refused\n\t[::1]:1: refused")
	tests := []struct {
		err  error
		want string
	}{
		{errors.New("one"), "one"},
		{usageError{errors.New("one\ntwo")}, "one\n  two"},
		{usageError{errors.Join(errors.Join(errors.New("a"), nil, errors.New("b")), pgx)},
			"3 problems:\n  - a\n  - b\n  - database: failed to connect:\n    \t127.0.0.1:1: refused\n    \t[::1]:1: refused"},
		// A wrapper that adds words is one problem: its text would be lost.
		{errors.Join(fmt.Errorf("x: %w", errors.Join(errors.New("a"), errors.New("b"))), errors.New("c")),
			"2 problems:\n  - x: a\n    b\n  - c"},
	}
	for _, tc := range tests {
		if got := indentJoined(tc.err); got != tc.want {
			t.Errorf("indentJoined(%q)\n got %q\nwant %q", tc.err, got, tc.want)
		}
	}
}

// TestFlagOverridesBadVariable: a variable that does not parse is no
// problem when its flag is given.
func TestFlagOverridesBadVariable(t *testing.T) {
	e := sqliteEnv(t)
	t.Setenv("KEYWARD_ACCESS_TOKEN_TTL", "bogus")
	t.Setenv("KEYWARD_TOKEN_RATE_LIMIT", "lots")
	e.serve("--access-token-ttl", "2h", "--token-rate-limit", "5")
	// Without the flags the variables are still problems, both reported.
	code, _, stderr := e.run("", "serve", "--public-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0")
	if code != 2 || !strings.Contains(stderr, "KEYWARD_ACCESS_TOKEN_TTL") || !strings.Contains(stderr, "KEYWARD_TOKEN_RATE_LIMIT") {
		t.Fatalf("bad variables without flags: exit %d\n%s", code, stderr)
	}
}

// TestHelpShowsNoSecret: --help shows documented defaults, never the
// values of the secret or the database URL from the environment, which
// still apply.
func TestHelpShowsNoSecret(t *testing.T) {
	e := sqliteEnv(t)
	const secret, password = "s3cr3t-value-0123456789abcdef0123", "hunter2pw"
	t.Setenv("KEYWARD_SECRET", secret)
	t.Setenv("KEYWARD_DATABASE_URL", "postgres://keyward:"+password+"@127.0.0.1:1/keyward")
	for _, cmd := range [][]string{{"serve"}, {"migrate"}, {"clients", "list"}, {"apikeys", "create"}} {
		code, out, stderr := e.run("", append(cmd, "--help")...)
		// Help goes to standard output, with the shared flags that apply.
		if code != 0 || !strings.Contains(out, "KEYWARD_DATABASE_URL") {
			t.Errorf("%v --help: exit %d\n%s", cmd, code, out)
		}
		if strings.Contains(out+stderr, secret) || strings.Contains(out+stderr, password) {
			t.Errorf("%v --help shows the secret or the password:\n%s%s", cmd, out, stderr)
		}
	}
	// The variables still apply: the database they name is tried.
	t.Setenv("KEYWARD_SECRET", "short")
	code, _, stderr := e.run("", "migrate")
	if code != 2 || !strings.Contains(stderr, "--secret: must be at least 32 bytes") || !strings.Contains(stderr, "database unreachable") {
		t.Fatalf("variables after --help: exit %d\n%s", code, stderr)
	}
	if strings.Contains(stderr, password) {
		t.Errorf("the database password is in the error:\n%s", stderr)
	}
}

// TestDefaultLogger: with SetDefaultLogger (as main sets it), slog's
// global functions, which the stores' listeners use, log in the configured
// format.
func TestDefaultLogger(t *testing.T) {
	prev := slog.Default()
	t.Cleanup(func() {
		slog.SetDefault(prev)
		log.SetOutput(os.Stderr)
		log.SetFlags(log.LstdFlags)
	})
	var logs syncBuffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: &logs, SetDefaultLogger: true}
	code := m.Run(context.Background(), []string{"migrate", "--data-dir", t.TempDir(), "--log-format", "json"})
	m.Close()
	if code != 0 {
		t.Fatalf("migrate: exit %d\n%s", code, logs.String())
	}
	slog.Warn("through the global logger", "probe", 1)
	var line map[string]any
	out := logs.String()
	last := out[strings.LastIndex(strings.TrimSuffix(out, "\n"), "\n")+1:]
	if err := json.Unmarshal([]byte(last), &line); err != nil || line["msg"] != "through the global logger" {
		t.Fatalf("global slog line is not JSON in the configured logger: %v\n%s", err, out)
	}
}

// TestDashedPositionals: a kid starting with a dash is a positional
// argument, wherever it stands; flag values and "--" keep their meaning.
func TestDashedPositionals(t *testing.T) {
	m := &Main{Stdout: io.Discard, Stderr: io.Discard}
	for _, tc := range []struct {
		args []string
		pos  []string
	}{
		{[]string{"-mtv0q6-bSm7"}, []string{"-mtv0q6-bSm7"}},
		{[]string{"--format", "json", "-mtv0q6"}, []string{"-mtv0q6"}},
		{[]string{"-mtv0q6", "--format", "json"}, []string{"-mtv0q6"}},
		{[]string{"--secret", "-starts-with-a-dash-and-is-long-enough", "kid"}, []string{"kid"}},
		{[]string{"--", "--double"}, []string{"--double"}},
	} {
		fs := m.flags("keys revoke")
		if err := m.parse(fs, tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if got := fs.Args(); !slices.Equal(got, tc.pos) {
			t.Errorf("%v: positional %v, want %v", tc.args, got, tc.pos)
		}
	}
	if err := m.parse(m.flags("keys revoke"), []string{"--bogus", "kid"}); err == nil {
		t.Error("an unknown long flag was accepted")
	}
}
