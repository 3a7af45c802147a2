package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/sqlite"
)

// runRaw runs keyward with exactly args (no --data-dir appended).
func runRaw(stdin string, args ...string) (int, string, string) {
	var out, errb syncBuffer
	m := &Main{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb}
	code := m.Run(context.Background(), args)
	m.Close()
	return code, out.String(), errb.String()
}

// TestGlobalFlagsAnywhere: the shared flags work before the command,
// between a group and its subcommand, and after it.
func TestGlobalFlagsAnywhere(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--data-dir", dir, "--format", "json", "clients", "list"},
		{"--data-dir=" + dir, "clients", "--format", "json", "list"},
		{"clients", "--data-dir", dir, "list", "--format=json"},
		{"clients", "list", "--data-dir", dir, "--format", "json"},
	} {
		code, out, errs := runRaw("", args...)
		var list []any
		if code != 0 || json.Unmarshal([]byte(out), &list) != nil {
			t.Errorf("keyward %v: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "keyward.db")); err != nil {
		t.Errorf("--data-dir before the command was not used: %v", err)
	}
	// A command's own flag before the command is refused, not guessed.
	if code, _, errs := runRaw("", "--name", "x", "clients", "create"); code != 2 {
		t.Errorf("--name before the command: exit %d, %s", code, errs)
	}
}

// TestCommandHelp: a group's help lists its subcommands; a command's help
// shows its own flags and only the shared ones that apply, on stdout,
// exit 0.
func TestCommandHelp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args      []string
		want, not []string
	}{
		{[]string{"clients", "--help"}, []string{"keyward clients create", "rotate-secret", "keyward clients COMMAND --help"}, nil},
		{[]string{"users", "--help"}, []string{"users list", "users get", "users update", "users disable", "users enable", "users delete", "users set-password", "users reset-factors"}, nil},
		{[]string{"clients", "create", "--help"}, []string{"usage: keyward clients create --name", "--grant-type", "--redirect-uri", "Global flags", "--data-dir", "--database-url"},
			[]string{"--jwks-max-age", "--api-key-env", "--issuer", "keyward clients list"}},
		{[]string{"clients", "get", "--help"}, []string{"keyward clients get ID", "--format"}, []string{"--grant-type", "--jwks-max-age"}},
		{[]string{"apikeys", "create", "--help"}, []string{"--expires-in", "--api-key-env"}, []string{"--jwks-max-age"}},
		{[]string{"version", "--help"}, []string{"--format"}, []string{"--data-dir", "--secret"}},
		{[]string{"serve", "--help"}, []string{"--issuer", "--access-token-ttl", "(default 15m)"}, []string{"15m0s"}},
		{[]string{"--help"}, []string{"keyward healthcheck", "keyward completion", "set-password"}, nil},
	} {
		code, out, errs := runRaw("", tc.args...)
		if code != 0 || errs != "" {
			t.Errorf("keyward %v: exit %d, stderr %q", tc.args, code, errs)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("keyward %v: help lacks %q:\n%s", tc.args, w, out)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(out, n) {
				t.Errorf("keyward %v: help shows %q, which does not apply:\n%s", tc.args, n, out)
			}
		}
	}
}

// TestCompletion: each shell's script is printed; the bash one parses
// (bash -n), registers itself, and completes commands, subcommands and
// flags, global flags before the command included.
func TestCompletion(t *testing.T) {
	t.Parallel()
	scripts := map[string]string{}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		code, out, errs := runRaw("", "completion", sh)
		if code != 0 || !strings.Contains(out, "keyward") || !strings.Contains(out, "set-password") {
			t.Fatalf("completion %s: exit %d %s\n%.300s", sh, code, errs, out)
		}
		scripts[sh] = out
	}
	if code, _, _ := runRaw("", "completion", "tcsh"); code != 2 {
		t.Errorf("completion tcsh: exit %d, want 2", code)
	}
	if !strings.Contains(scripts["fish"], "complete -c keyward") || !strings.Contains(scripts["zsh"], "bashcompinit") {
		t.Errorf("fish or zsh script:\n%.400s\n%.400s", scripts["fish"], scripts["zsh"])
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	file := filepath.Join(t.TempDir(), "keyward.bash")
	if err := os.WriteFile(file, []byte(scripts["bash"]), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bash, "-n", file).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
	complete := func(line string) []string {
		t.Helper()
		words := strings.Fields(line)
		if strings.HasSuffix(line, " ") {
			words = append(words, "")
		}
		script := "source " + file + "\ncomplete -p keyward\nCOMP_WORDS=("
		for _, w := range words {
			script += "'" + w + "' "
		}
		script += ")\nCOMP_CWORD=" + strconv.Itoa(len(words)-1) + "\n_keyward\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
		out, err := exec.Command(bash, "-c", script).CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if !strings.HasPrefix(lines[0], "complete -F _keyward keyward") {
			t.Fatalf("complete -p keyward: %q", lines[0])
		}
		return lines[1:]
	}
	for line, want := range map[string]string{
		"keyward cl":                                 "clients",
		"keyward us":                                 "users",
		"keyward clients ":                           "rotate-secret",
		"keyward users set":                          "set-password",
		"keyward users reset":                        "reset-factors",
		"keyward --data-dir /tmp/x us":               "users",
		"keyward --data-dir /tmp/x users dis":        "disable",
		"keyward clients create --na":                "--name",
		"keyward clients --format json create --red": "--redirect-uri",
		"keyward apikeys create --exp":               "--expires-in",
		"keyward serve --acc":                        "--access-token-ttl",
		"keyward completion ":                        "fish",
	} {
		got := complete(line)
		found := false
		for _, g := range got {
			found = found || g == want
		}
		if !found {
			t.Errorf("completing %q: %q, want %q among them", line, got, want)
		}
	}
}

// TestUsersManageCLI: users list|get|update|disable|enable|set-password|
// delete, each audited as the admin API's edits are, and the last
// enabled admin cannot be demoted or deleted.
func TestUsersManageCLI(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		var alice, bob accounts.UserView
		e.runJSON(&alice, "alice password 1\n", "users", "create", "--username", "alice", "--admin", "--password-stdin")
		e.runJSON(&bob, "bob password 1\n", "users", "create", "--username", "bob", "--email", "bob@example.com", "--password-stdin")
		var list []accounts.UserView
		e.runJSON(&list, "", "users", "list")
		if len(list) != 2 {
			t.Fatalf("list: %+v", list)
		}
		var got accounts.UserView
		e.runJSON(&got, "", "users", "get", "bob") // by username
		if got.ID != bob.ID || got.Email != "bob@example.com" {
			t.Fatalf("get bob: %+v", got)
		}
		e.runJSON(&got, "", "users", "update", bob.ID, "--name", "Bob B", "--email", "b@example.com", "--admin")
		if got.Name != "Bob B" || got.Email != "b@example.com" || !got.Admin || got.EmailVerified {
			t.Fatalf("update: %+v", got)
		}
		e.runJSON(&got, "", "users", "disable", "bob")
		if !got.Disabled {
			t.Fatalf("disable: %+v", got)
		}
		// alice is now the only enabled admin.
		if code, _, errs := e.run("", "users", "update", "alice", "--admin=false"); code != 1 || !strings.Contains(errs, "last enabled admin") {
			t.Errorf("demoting the last admin: exit %d %s", code, errs)
		}
		e.runJSON(&got, "", "users", "enable", "bob")
		if got.Disabled {
			t.Fatalf("enable: %+v", got)
		}
		e.runJSON(&got, "new bob password\n", "users", "set-password", "bob")
		if code, _, errs := e.run("short\n", "users", "set-password", "bob"); code != 2 || !strings.Contains(errs, "password") {
			t.Errorf("short password: exit %d %s", code, errs)
		}
		if code, _, errs := e.run("", "users", "update", "bob", "--email", "not an address"); code != 2 || !strings.Contains(errs, "email") {
			t.Errorf("bad email: exit %d %s", code, errs)
		}
		db := e.open(t)
		if u, err := db.GetUser(context.Background(), bob.ID); err != nil {
			t.Fatal(err)
		} else if ok, _ := accounts.CheckPassword(u.PasswordHash, "new bob password"); !ok {
			t.Error("set-password did not set the password read from stdin")
		}
		e.runJSON(&got, "", "users", "delete", "bob")
		if code, _, _ := e.run("", "users", "get", bob.ID); code != 1 {
			t.Errorf("get after delete: exit %d", code)
		}
		events, _, err := db.ListAudit(context.Background(), store.AuditFilter{Subject: bob.ID}, store.Page{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, ev := range events {
			if ev.Actor != "cli" {
				t.Errorf("event %s by %q, want cli", ev.Type, ev.Actor)
			}
			types = append(types, ev.Type)
			if strings.Contains(string(ev.Data), "new bob password") {
				t.Errorf("the password is in the audit event: %s", ev.Data)
			}
		}
		want := "user.created user.updated user.updated user.updated user.updated user.deleted"
		if strings.Join(types, " ") != want {
			t.Errorf("audit events of bob: %v, want %s", types, want)
		}
	})
}

// open opens e's database directly (SQLite or PostgreSQL).
func (e *env) open(t *testing.T) interface {
	store.UserStore
	store.AuditStore
} {
	t.Helper()
	if e.dbURL == "" {
		db, err := sqlite.Open(context.Background(), filepath.Join(e.dataDir, "keyward.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	m := &Main{Stdin: strings.NewReader(""), Stdout: &syncBuffer{}, Stderr: &syncBuffer{}}
	if err := m.parse(m.flags("test"), e.args()); err != nil {
		t.Fatal(err)
	}
	db, _, err := m.openMigrated(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return db
}

// TestJSONErrors: with --format json a failure is one JSON object on
// stderr, with the exit code of the text form.
func TestJSONErrors(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	for _, tc := range []struct {
		args []string
		exit int
		code string
	}{
		{[]string{"clients", "get", "nope"}, 1, "not_found"},
		{[]string{"clients", "create", "--bogus"}, 2, "usage"},
		{[]string{"clients", "create", "--name", "x", "--grant-type", "password"}, 2, "invalid"},
		{[]string{"clients", "frobnicate"}, 2, "usage"},
		{[]string{"apikeys", "create", "--name", "x", "--expires-in", "soon"}, 2, "usage"},
	} {
		code, out, errs := e.run("", append(tc.args, "--format", "json")...)
		var got struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if code != tc.exit || out != "" {
			t.Errorf("%v: exit %d (want %d), stdout %q", tc.args, code, tc.exit, out)
		}
		last := errs[strings.LastIndex(strings.TrimSpace(errs), "\n")+1:]
		if err := json.Unmarshal([]byte(last), &got); err != nil || got.Error.Code != tc.code || got.Error.Message == "" {
			t.Errorf("%v: stderr %q, want {\"error\": {\"code\": %q, ...}}", tc.args, errs, tc.code)
		}
	}
}

// TestCLIDurationsAndShapes: every duration flag takes days, durations
// print canonically, and the API-key JSON is the admin API's (lists never
// null). Not parallel: it sets a variable.
func TestCLIDurationsAndShapes(t *testing.T) {
	e := sqliteEnv(t)
	var k map[string]any
	e.runJSON(&k, "", "apikeys", "create", "--name", "ci", "--expires-in", "30d", "--rate-limit", "100/1m")
	exp, _ := time.Parse(time.RFC3339Nano, k["expires_at"].(string))
	if d := time.Until(exp); d < 29*24*time.Hour || d > 30*24*time.Hour {
		t.Errorf("--expires-in 30d: expires_at %v", exp)
	}
	if k["rate_limit"] != "100/1m" || k["scope"] != "" {
		t.Errorf("rate_limit %v, scope %v", k["rate_limit"], k["scope"])
	}
	if s, ok := k["scopes"].([]any); !ok || len(s) != 0 {
		t.Errorf(`"scopes" is %#v, want []`, k["scopes"])
	}
	for _, f := range []string{"id", "key", "prefix", "env", "name", "hint", "metadata", "disabled", "revoked", "created_at", "updated_at", "usage_count"} {
		if _, ok := k[f]; !ok {
			t.Errorf("API-key JSON lacks %q (the admin API's field): %v", f, k)
		}
	}
	var rolled map[string]any
	e.runJSON(&rolled, "", "apikeys", "roll", k["id"].(string), "--grace-period", "1d")
	if rolled["key"] == k["key"] {
		t.Error("roll printed the old key")
	}
	// Days in the environment too, and in serve's settings.
	t.Setenv("KEYWARD_JWKS_MAX_AGE", "1d")
	if code, _, errs := e.run("", "keys", "list"); code != 0 {
		t.Errorf("KEYWARD_JWKS_MAX_AGE=1d: exit %d %s", code, errs)
	}
	var m Main
	fs := m.flags("serve")
	m.Config.bindServe(fs)
	if err := m.parse(fs, []string{"--key-rotation", "90d", "--access-token-ttl", "1h"}); err != nil {
		t.Fatal(err)
	}
	if m.Config.KeyRotation != 90*24*time.Hour || m.Config.AccessTokenTTL != time.Hour {
		t.Errorf("--key-rotation 90d: %v, --access-token-ttl 1h: %v", m.Config.KeyRotation, m.Config.AccessTokenTTL)
	}
}
