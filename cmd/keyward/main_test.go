package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/store/postgres/pgtest"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is one Keyward database for a test: a data dir, and a database URL
// and secret for PostgreSQL ("" for the embedded default).
type env struct {
	t       *testing.T
	dataDir string
	dbURL   string
	secret  string
	// issuerScheme is the scheme of serve's issuer: "http" when "", or
	// "https" for a server behind TLS.
	issuerScheme string
	// issuerHost, when set, names the issuer's host instead of the
	// listener's IP (WebAuthn needs a domain: "localhost").
	issuerHost string
	// configure, when set, adjusts serve's Main before it runs.
	configure func(*Main)
}

func sqliteEnv(t *testing.T) *env { return &env{t: t, dataDir: t.TempDir()} }

func postgresEnv(t *testing.T) *env {
	return &env{t: t, dataDir: t.TempDir(), dbURL: pgtest.Schema(t), secret: "0123456789abcdef0123456789abcdef-test"}
}

// engines runs fn once per engine.
func engines(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, sqliteEnv(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, postgresEnv(t)) })
}

func (e *env) args(args ...string) []string {
	out := append([]string{}, args...)
	out = append(out, "--data-dir", e.dataDir)
	if e.dbURL != "" {
		out = append(out, "--database-url", e.dbURL, "--secret", e.secret)
	}
	return out
}

// run runs one command and returns its exit code, stdout and stderr.
func (e *env) run(stdin string, args ...string) (int, string, string) {
	e.t.Helper()
	return e.runContext(context.Background(), stdin, args...)
}

// runContext is run with ctx, which stops a serve.
func (e *env) runContext(ctx context.Context, stdin string, args ...string) (int, string, string) {
	e.t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb}
	code := m.Run(ctx, e.args(args...))
	m.Close()
	return code, out.String(), errb.String()
}

// runJSON runs a command with --format json, fails on a non-zero exit and
// decodes its output into v.
func (e *env) runJSON(v any, stdin string, args ...string) {
	e.t.Helper()
	code, out, errs := e.run(stdin, append(args, "--format", "json")...)
	if code != 0 {
		e.t.Fatalf("keyward %v: exit %d\n%s", args, code, errs)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		e.t.Fatalf("keyward %v: output is not JSON: %v\n%s", args, err, out)
	}
}

// server is a running keyward serve.
type server struct {
	*Server
	logs   *syncBuffer
	stdout *syncBuffer
	stop   func() int
}

// serve starts keyward serve on loopback port-0 listeners.
func (e *env) serve(extra ...string) *server {
	e.t.Helper()
	pub, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	adm, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	scheme := e.issuerScheme
	if scheme == "" {
		scheme = "http"
	}
	host := pub.Addr().String()
	if e.issuerHost != "" {
		host = net.JoinHostPort(e.issuerHost, strconv.Itoa(pub.Addr().(*net.TCPAddr).Port))
	}
	issuer := scheme + "://" + host
	started := make(chan *Server, 1)
	logs, stdout := &syncBuffer{}, &syncBuffer{}
	m := &Main{Stdin: strings.NewReader(""), Stdout: stdout, Stderr: logs, Started: started,
		PublicListener: pub, AdminListener: adm}
	if e.configure != nil {
		e.configure(m)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- m.Run(ctx, e.args(append([]string{"serve", "--issuer", issuer, "--log-format", "json"}, extra...)...))
		m.Close()
	}()
	s := &server{logs: logs, stdout: stdout}
	select {
	case s.Server = <-started:
	case code := <-done:
		cancel()
		e.t.Fatalf("serve exited with %d before starting:\n%s", code, logs)
	case <-time.After(30 * time.Second):
		cancel()
		e.t.Fatalf("serve did not start:\n%s", logs)
	}
	var once sync.Once
	code := -1
	s.stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case code = <-done:
			case <-time.After(30 * time.Second):
				e.t.Errorf("serve did not stop")
			}
		})
		return code
	}
	e.t.Cleanup(func() { s.stop() })
	return s
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeZeroConfigSQLite(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	s := e.serve()
	if !strings.Contains(s.stdout.String(), s.PublicURL) || !strings.Contains(s.stdout.String(), s.AdminURL) {
		t.Errorf("serve must print both URLs; printed:\n%s", s.stdout)
	}
	for _, u := range []string{s.PublicURL + "/healthz", s.PublicURL + "/readyz", s.AdminURL + "/healthz", s.AdminURL + "/readyz"} {
		if code, body := get(t, u); code != http.StatusOK {
			t.Errorf("GET %s = %d %s", u, code, body)
		}
	}
	if code, body := get(t, s.AdminURL+"/metrics"); code != 200 || !strings.Contains(body, "keyward_http_requests_total") {
		t.Errorf("metrics: %d\n%.300s", code, body)
	}
	if code := s.stop(); code != 0 {
		t.Fatalf("serve exit code %d after SIGINT-equivalent; logs:\n%s", code, s.logs)
	}
	if !strings.Contains(s.logs.String(), `"msg":"request"`) || !strings.Contains(s.logs.String(), `"request_id"`) {
		t.Errorf("want one JSON log line per request with a request id:\n%s", s.logs)
	}
	// The secret was generated owner-only and the same one is used on restart.
	secretPath := filepath.Join(e.dataDir, "secret")
	if fi, err := statMode(secretPath); err != nil || fi != 0o600 {
		t.Fatalf("secret file mode %o, %v; want 0600", fi, err)
	}
}

func TestRestartKeepsEverything(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		var created struct {
			ClientID string `json:"client_id"`
		}
		e.runJSON(&created, "", "clients", "create", "--name", "keeper")
		s := e.serve()
		s.stop()
		s = e.serve()
		s.stop()
		var got struct {
			ClientID string `json:"client_id"`
			Name     string `json:"client_name"`
		}
		e.runJSON(&got, "", "clients", "get", created.ClientID)
		if got.Name != "keeper" {
			t.Fatalf("after restarts: %+v", got)
		}
	})
}

func TestConfigProblemsReportedTogether(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	e := sqliteEnv(t)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"many at once", []string{"serve", "--issuer", "ftp://x", "--secret", "short", "--log-format", "xml"},
			[]string{"--issuer", "--secret: must be at least 32 bytes", "--log-format"}},
		{"port in use", []string{"serve", "--public-addr", busy.Addr().String(), "--admin-addr", "127.0.0.1:0"},
			[]string{"--public-addr " + busy.Addr().String()}},
		{"bad database URL", []string{"serve", "--database-url", "mysql://x"}, []string{"--database-url"}},
		{"postgres needs a secret", []string{"serve", "--database-url", "postgres://postgres@127.0.0.1:5432/test"},
			[]string{"--secret (KEYWARD_SECRET) is required with PostgreSQL"}},
		{"unreachable database", []string{"serve", "--database-url", "postgres://nobody@127.0.0.1:1/x?connect_timeout=2",
			"--secret", strings.Repeat("s", 32), "--public-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"},
			[]string{"database unreachable"}},
		// Every kind at once: a setting, a short secret, a busy port and an
		// unreachable database are all tried and all counted.
		{"all four kinds", []string{"serve", "--issuer", "not a url", "--secret", "short",
			"--database-url", "postgres://nobody@127.0.0.1:1/x?connect_timeout=2",
			"--public-addr", busy.Addr().String(), "--admin-addr", "127.0.0.1:0"},
			[]string{"4 problems:", "--issuer", "--secret: must be at least 32 bytes",
				"--public-addr " + busy.Addr().String(), "database unreachable"}},
		{"unknown flag", []string{"serve", "--nope"}, []string{"unknown flag"}},
		{"unknown command", []string{"frobnicate"}, []string{"unknown command"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { settingsProblem(t, e, tc.args, tc.want...) })
	}
}

// settingsProblem runs args and checks that they are refused as settings
// problems: exit code 2, every string of want on stderr and no stack
// trace. It returns stderr.
func settingsProblem(t *testing.T, e *env, args []string, want ...string) string {
	t.Helper()
	// A serve that starts after all is stopped, and fails with exit 0.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code, _, stderr := e.runContext(ctx, "", args...)
	if code != 2 {
		t.Errorf("exit %d, want 2; stderr:\n%s", code, stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
		t.Errorf("stack trace on stderr:\n%s", stderr)
	}
	return stderr
}

func TestEnvironmentAndFlags(t *testing.T) {
	e := sqliteEnv(t)
	t.Setenv("KEYWARD_LOG_FORMAT", "xml")
	if code, _, stderr := e.run("", "migrate"); code != 2 || !strings.Contains(stderr, "--log-format") {
		t.Fatalf("bad KEYWARD_LOG_FORMAT: exit %d\n%s", code, stderr)
	}
	// A flag overrides its variable.
	if code, _, stderr := e.run("", "migrate", "--log-format", "json"); code != 0 {
		t.Fatalf("flag must override the variable: exit %d\n%s", code, stderr)
	}
	t.Setenv("KEYWARD_LOG_FORMAT", "")
	t.Setenv("KEYWARD_ACCESS_TOKEN_TTL", "soon")
	if code, _, stderr := e.run("", "serve"); code != 2 || !strings.Contains(stderr, "KEYWARD_ACCESS_TOKEN_TTL") {
		t.Fatalf("bad duration variable: exit %d\n%s", code, stderr)
	}
}

func TestVersion(t *testing.T) {
	e := sqliteEnv(t)
	code, out, _ := e.run("", "version")
	if code != 0 || !strings.HasPrefix(out, "keyward ") {
		t.Fatalf("version: %d %q", code, out)
	}
	var v buildInfo
	e.runJSON(&v, "", "version", "--format", "json")
	if !strings.HasPrefix(out, "keyward "+v.Version+" (commit "+v.Commit) || v.Go == "" {
		t.Fatalf("version --format json: %+v, table %q", v, out)
	}
	var mig struct{ Status string }
	e.runJSON(&mig, "", "migrate", "--format", "json")
	if mig.Status == "" {
		t.Fatal("migrate --format json printed no status")
	}
}

// TestNoMigrate: serve --no-migrate refuses a database whose schema is
// behind, and serves one that is current.
func TestNoMigrate(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	if code, _, stderr := e.run("", "serve", "--no-migrate", "--public-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"); code != 2 || !strings.Contains(stderr, "keyward migrate") {
		t.Fatalf("--no-migrate on an empty database: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := e.run("", "migrate"); code != 0 {
		t.Fatal(stderr)
	}
	s := e.serve("--no-migrate")
	if code, _ := get(t, s.PublicURL+"/readyz"); code != 200 {
		t.Fatalf("readyz %d", code)
	}
}
