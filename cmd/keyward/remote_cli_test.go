package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// remoteEnv is a running server and a token of a client with the admin
// scope, for the CLI's remote mode.
type remoteEnv struct {
	*env
	srv       *server
	tokenFile string
}

// newRemoteEnv starts a server on e and gets an admin token from it (the
// "ops" client, made through the database).
func newRemoteEnv(t *testing.T, e *env) *remoteEnv {
	t.Helper()
	s := e.serve()
	ops := e.newClient("--name", "ops", "--grant-type", "client_credentials", "--scope", "keyward:admin")
	r := postForm(t, s.PublicURL+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, ops.ClientID, ops.ClientSecret)
	token := r.str("access_token")
	if r.status != 200 || token == "" {
		t.Fatalf("admin token: %d %s", r.status, r.raw)
	}
	f := filepath.Join(t.TempDir(), "admin-token")
	if err := os.WriteFile(f, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &remoteEnv{env: e, srv: s, tokenFile: f}
}

// remote runs a command in remote mode: --admin-url and --admin-token-file,
// and a data directory of its own that must stay unused.
func (r *remoteEnv) remote(stdin string, args ...string) (int, string, string) {
	r.t.Helper()
	empty := &env{t: r.t, dataDir: filepath.Join(r.t.TempDir(), "unused")}
	code, out, errs := empty.run(stdin, append(args, "--admin-url", r.srv.AdminURL, "--admin-token-file", r.tokenFile)...)
	if _, err := os.Stat(empty.dataDir); err == nil {
		r.t.Errorf("keyward %v in remote mode touched the data directory", args)
	}
	return code, out, errs
}

// cliResult is one command's exit code and output.
type cliResult struct {
	args           string
	code           int
	stdout, stderr string
}

// cliRunner runs one command and returns its result.
type cliRunner func(stdin string, args ...string) cliResult

// cliScenario drives every group that has a remote mode through run, in
// table and JSON forms, failures included, and returns what each step
// printed. It reads the ids it needs from earlier JSON answers.
func cliScenario(t *testing.T, run cliRunner, signingKeyPEM string) []cliResult {
	t.Helper()
	var out []cliResult
	step := func(stdin string, args ...string) cliResult {
		t.Helper()
		r := run(stdin, args...)
		out = append(out, r)
		return r
	}
	id := func(r cliResult, field string) string {
		t.Helper()
		var v map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
			t.Fatalf("%s: %v\n%s%s", r.args, err, r.stdout, r.stderr)
		}
		s, _ := v[field].(string)
		if s == "" {
			t.Fatalf("%s: no %s in %s", r.args, field, r.stdout)
		}
		return s
	}
	js := "--format=json"

	// Clients.
	c := id(step("", "clients", "create", "--name", "billing", "--grant-type", "client_credentials", "--scope", "invoices:read invoices:write", js), "client_id")
	step("", "clients", "create", "--name", "web", "--grant-type", "authorization_code", "--redirect-uri", "https://app.example/cb", "--audience", "https://api.example")
	step("", "clients", "list")
	step("", "clients", "list", js)
	step("", "clients", "get", c)
	step("", "clients", "update", c, "--scope", "invoices:read", "--skip-consent", js)
	step("", "clients", "update", c, "--name", "billing-2")
	step("", "clients", "update", c, "--logo-uri", "https://cdn.example/billing.png", js)
	step("", "clients", "update", c, "--logo-uri", "http://cdn.example/billing.png", js)
	step("", "clients", "disable", c, js)
	step("", "clients", "enable", c)
	step("", "clients", "create", "--name", "bad", "--grant-type", "authorization_code", "--redirect-uri", "http://app.example/cb", js)
	step("", "clients", "create", "--name", "bad", "--grant-type", "authorization_code", "--redirect-uri", "http://app.example/cb")
	step("", "clients", "create", "--name", "pkjwt", "--grant-type", "client_credentials", "--auth-method", "private_key_jwt",
		"--jwks-file", signingKeyPEM, js) // a PEM is no JWK Set
	step("", "clients", "get", "no-such-client", js)
	step("", "clients", "get", "no-such-client")
	step("", "clients", "delete", c, js)
	step("", "clients", "delete", c, js)

	// Users, by id and by username.
	u := id(step("a long password\n", "users", "create", "--username", "alice", "--email", "alice@example.com", "--name", "Alice", "--password-stdin", js), "id")
	step("", "users", "get", "alice")
	step("", "users", "get", u, js)
	step("", "users", "update", "alice", "--name", "Alice A.", "--email-verified", js)
	step("", "users", "disable", "alice")
	step("", "users", "enable", u, js)
	step("another long password\n", "users", "set-password", "alice", js)
	step("", "users", "reset-factors", "alice", js)
	step("", "users", "reset-factors", "alice")
	step("", "users", "reset-factors", "nobody", js)
	step("short\n", "users", "create", "--username", "bob", "--password-stdin", js)
	step("", "users", "list")
	step("", "users", "list", js)
	step("", "users", "delete", "alice", js)
	step("", "users", "get", "alice", js)

	// API keys.
	k := id(step("", "apikeys", "create", "--name", "ci", "--scope", "invoices:read", "--expires-in", "30d", "--rate-limit", "100/1m", js), "id")
	step("", "apikeys", "get", k)
	step("", "apikeys", "roll", k, "--grace-period", "1h", js)
	step("", "apikeys", "list")
	step("", "apikeys", "list", js)
	step("", "apikeys", "create", "--name", "other") // after the lists: random ids order them
	step("", "apikeys", "revoke", k, js)
	step("", "apikeys", "create", "--name", "bad", "--rate-limit", "100/1m", "--expires-in", "-1h", js)

	// Resources, deleted by URI.
	step("", "resources", "create", "--uri", "https://api.example", "--name", "API", "--scope", "invoices:read", js)
	step("", "resources", "create", "--uri", "https://api.example", js)
	step("", "resources", "create", "--uri", "not a uri", js)
	step("", "resources", "list")
	step("", "resources", "delete", "https://api.example")
	step("", "resources", "delete", "https://api.example", js)

	// Registration tokens.
	rt := id(step("", "registration-tokens", "create", "--uses", "2", js), "id")
	step("", "registration-tokens", "list")
	step("", "registration-tokens", "revoke", rt, js)

	// Providers.
	step("upstream-secret\n", "providers", "create", "--name", "corp", "--issuer", "https://login.corp.example",
		"--client-id", "keyward", "--client-secret-stdin", js)
	step("upstream-secret\n", "providers", "create", "--name", "Bad Name", "--issuer", "https://login.corp.example",
		"--client-id", "keyward", "--client-secret-stdin", js)
	step("", "providers", "list")
	step("", "providers", "delete", "corp", js)

	// Signing keys.
	step("", "keys", "list")
	step("", "keys", "rotate", "--alg", "ES256", "--force", js)
	step("", "keys", "rotate", "--alg", "HS256", js)
	step("", "keys", "revoke", "no-such-kid", js)
	// One imported key has one kid in both databases.
	imported := step("", "keys", "import", "--file", signingKeyPEM, "--state", "next", js)
	var recs []struct{ KID string }
	if err := json.Unmarshal([]byte(imported.stdout), &recs); err != nil || len(recs) != 1 {
		t.Fatalf("%s: %v\n%s%s", imported.args, err, imported.stdout, imported.stderr)
	}
	kid := recs[0].KID
	step("", "keys", "import", "--file", signingKeyPEM, "--state", "sideways", js)
	step("", "keys", "revoke", kid)
	return out
}

// volatile are the values that differ between two databases: ids, times,
// secrets, key ids, and the server's port.
var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`), "<uuid>"},
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`), "<time>"},
	{regexp.MustCompile(`kw_(live|test)_[A-Za-z0-9_-]+`), "<apikey>"},
	{regexp.MustCompile(`\.\.\.[A-Za-z0-9_-]{4}\b`), "...<hint>"},
	{regexp.MustCompile(`(^|[^A-Za-z0-9_-])[A-Za-z0-9_-]{43}\b`), "$1<kid>"},                   // a signing key's
	{regexp.MustCompile(`(^|[^A-Za-z0-9_-])[A-Za-z0-9]{16}([^A-Za-z0-9_-]|$)`), "$1<keyid>$2"}, // an API key's id
	{regexp.MustCompile(`"(client_secret|token|hint|kid|key)": "[^"]*"`), `"$1": "<secret>"`},
	{regexp.MustCompile(`(?m)^(client_secret|token|hint|key)( +)\S+`), "$1$2<secret>"},
	{regexp.MustCompile(`127\.0\.0\.1:\d+`), "<host>"},
	{regexp.MustCompile(`published \d+s ago`), "published <age> ago"},
}

// logLine is a log line on standard error: local mode logs what the
// services do (signing-key changes), remote mode leaves that to the server.
var logLine = regexp.MustCompile(`(?m)^\{"time":.*\n`)

func sortedLines(s string) string {
	lines := strings.Split(s, "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func normalize(s string) string {
	s = logLine.ReplaceAllString(s, "")
	for _, v := range volatile {
		s = v.re.ReplaceAllString(s, v.with)
	}
	return s
}

// TestCLIRemoteMatchesLocal runs one scenario of every command group with
// a remote mode twice, on two servers: once on the database (local
// mode), once through the other server's admin API (--admin-url): each
// step has the same exit code, standard output and standard error (table,
// JSON, and the JSON errors of validation, not found and conflicts), but
// for ids, times and secrets.
func TestCLIRemoteMatchesLocal(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		var localEnv *env
		if e.dbURL == "" {
			localEnv = sqliteEnv(t)
		} else {
			localEnv = postgresEnv(t)
		}
		// Both databases have a server (so signing keys) and an ops client.
		newRemoteEnv(t, localEnv)
		re := newRemoteEnv(t, e)
		pemFile := filepath.Join(t.TempDir(), "signing.pem")
		writeECKey(t, pemFile)
		local := cliScenario(t, func(stdin string, args ...string) cliResult {
			code, out, errs := localEnv.run(stdin, args...)
			return cliResult{strings.Join(args, " "), code, out, errs}
		}, pemFile)
		remote := cliScenario(t, func(stdin string, args ...string) cliResult {
			code, out, errs := re.remote(stdin, args...)
			return cliResult{strings.Join(args, " "), code, out, errs}
		}, pemFile)
		if len(local) != len(remote) {
			t.Fatalf("%d local steps, %d remote", len(local), len(remote))
		}
		codes := map[int]int{}
		for i, l := range local {
			r := remote[i]
			codes[l.code]++
			if l.code != r.code {
				t.Errorf("keyward %s: exit %d locally, %d remotely\nlocal: %s\nremote: %s", l.args, l.code, r.code, l.stderr, r.stderr)
			}
			for _, o := range []struct{ name, l, r string }{{"stdout", l.stdout, r.stdout}, {"stderr", l.stderr, r.stderr}} {
				nl, nr := normalize(o.l), normalize(o.r)
				if l.args == "keys list" { // keys made in one second come in either order
					nl, nr = sortedLines(nl), sortedLines(nr)
				}
				if nl != nr {
					t.Errorf("keyward %s: %s differs\nlocal:\n%s\nremote:\n%s", l.args, o.name, nl, nr)
				}
			}
		}
		// The scenario has successes, failures (exit 1) and usage errors
		// (exit 2), so both kinds of error are compared.
		if codes[0] == 0 || codes[1] == 0 || codes[2] == 0 {
			t.Errorf("exit codes of the scenario: %v", codes)
		}
	})
}

// TestCLIRemoteFromEnvironment: the token comes from KEYWARD_ADMIN_TOKEN
// and the URL from KEYWARD_ADMIN_URL; without a token, or with a wrong
// one, the command fails clearly; --admin-url given to a command without
// an admin API equivalent is a usage error, while the variable alone is
// ignored there. (Not parallel: it sets variables.)
func TestCLIRemoteFromEnvironment(t *testing.T) {
	re := newRemoteEnv(t, sqliteEnv(t))
	token, err := os.ReadFile(re.tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	unused := &env{t: t, dataDir: filepath.Join(t.TempDir(), "unused")}

	t.Setenv("KEYWARD_ADMIN_URL", re.srv.AdminURL)
	code, _, errs := unused.run("", "clients", "list", "--format", "json")
	if code != exitUsage || !strings.Contains(errs, `"code":"usage"`) || !strings.Contains(errs, "KEYWARD_ADMIN_TOKEN") {
		t.Errorf("no token: exit %d %s", code, errs)
	}
	t.Setenv("KEYWARD_ADMIN_TOKEN", "not-a-token")
	code, _, errs = unused.run("", "clients", "list")
	if code != exitFailed || !strings.Contains(errs, "401") {
		t.Errorf("wrong token: exit %d %s", code, errs)
	}
	t.Setenv("KEYWARD_ADMIN_TOKEN", strings.TrimSpace(string(token)))
	var list []struct {
		Name string `json:"client_name"`
	}
	unused.runJSON(&list, "", "clients", "list")
	if len(list) != 1 || list[0].Name != "ops" {
		t.Errorf("clients list through KEYWARD_ADMIN_URL: %+v", list)
	}
	if _, err := os.Stat(unused.dataDir); err == nil {
		t.Error("remote mode created the data directory")
	}

	// Commands without an admin API equivalent.
	code, _, errs = unused.run("", "migrate", "--admin-url", re.srv.AdminURL)
	if code != exitUsage || !strings.Contains(errs, "no admin API equivalent") {
		t.Errorf("migrate --admin-url: exit %d %s", code, errs)
	}
	if code, out, errs := unused.run("", "version"); code != 0 {
		t.Errorf("version with KEYWARD_ADMIN_URL set: exit %d %s%s", code, out, errs)
	}

	// A server that is not there.
	t.Setenv("KEYWARD_ADMIN_URL", "http://127.0.0.1:1")
	code, _, errs = unused.run("", "users", "list", "--format", "json")
	if code == 0 || !strings.Contains(errs, `"code":"unavailable"`) {
		t.Errorf("unreachable server: exit %d %s", code, errs)
	}
}

// writeECKey writes a new P-256 private key, PKCS #8 PEM, to path.
func writeECKey(t *testing.T, path string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
