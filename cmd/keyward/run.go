package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/keyward/keyward/store"
)

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = "0.1.0-dev"

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

// Main is the program: it parses arguments, wires every part through
// constructors and runs one command. Tests drive it the same way main does.
type Main struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv is unused by design: settings come from os.Getenv at flag
	// binding, so tests set variables with t.Setenv.
	Config Config

	// Started, when non-nil, receives the server once serve is listening.
	Started chan<- *Server
	// PublicListener and AdminListener, when set, are used instead of
	// listening on --public-addr and --admin-addr (tests pass port-0
	// listeners so they know the issuer URL before the server starts).
	PublicListener, AdminListener net.Listener
	// SetDefaultLogger makes the configured logger slog's default once the
	// settings are parsed, so packages that log through slog's functions
	// (the stores' event listeners) write the same format. NewMain sets
	// it; tests that run several Mains in one process leave it off.
	SetDefaultLogger bool
	// SetMemoryLimit lets serve set the Go runtime's memory limit
	// (--memory-limit) and GOGC (gctune.go), and drop the executable's
	// start-up pages (exepages_linux.go): the process's. NewMain sets it;
	// tests that run several Mains in one process leave it off.
	SetMemoryLimit bool
	// SpanExporter, when set, turns serve's tracing on and receives each
	// span as it ends, instead of the OTLP endpoint (tests use the SDK's
	// in-memory exporter).
	SpanExporter sdktrace.SpanExporter
	// OutboundRootCAs, when set, replaces the system roots for what
	// Keyward fetches (tests trusting an httptest TLS server).
	OutboundRootCAs *x509.CertPool
	// OutboxMinBackoff, when set, is the outbox's first wait before a
	// retry (webhooks.Config.MinBackoff; default 5s). Tests shorten it.
	OutboxMinBackoff time.Duration
	// UIChallengeTTL, when set, is the life of an external login or
	// consent UI's challenges (authz.DefaultUIChallengeTTL). Tests shorten it.
	UIChallengeTTL time.Duration

	logger  *slog.Logger
	logOut  *logOutput // the JSON logger's output (nil: text)
	closers []func() error
	// globalArgs are the flags given before the command (or between a
	// group and its subcommand); parse reads them before the command's own.
	globalArgs []string
	// groupUsage is the usage of the command group being run, for the
	// help of its subcommands (see groupHelp).
	groupUsage string
	// tracing is serve's tracing, nil when off (startTracing).
	tracing *tracing
	// publicIssuer is "providers --public-issuer" (providersIssuer).
	publicIssuer string
}

// NewMain returns a Main on the process's standard streams.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, SetDefaultLogger: true, SetMemoryLimit: true}
}

// usageError is a mistake in the command line or the settings: exit 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// groupHelp prints a command group's usage to standard output when its
// subcommand is --help, -h or help ("keyward clients --help"), and
// reports whether it did: asking for help is no mistake. It also notes
// usage for the help of the subcommand ("keyward clients create --help").
func (m *Main) groupHelp(sub, usage string) bool {
	m.groupUsage = usage
	switch sub {
	case "--help", "-h", "help":
		fmt.Fprintln(m.Stdout, usage)
		fmt.Fprintln(m.Stdout, "\nRun \"keyward "+groupName(usage)+" COMMAND --help\" for a command's flags.")
		return true
	}
	return false
}

// groupName is the group a usage text describes ("clients").
func groupName(usage string) string {
	_, after, _ := strings.Cut(usage, "keyward ")
	name, _, _ := strings.Cut(after, " ")
	return name
}

const topUsage = `Keyward — OAuth2 / OpenID Connect authorization server with API keys.

Usage:
  keyward serve      start the server (SQLite under --data-dir unless --database-url)
  keyward migrate    apply pending database migrations and exit
  keyward version    print the version
  keyward clients    create|update|list|get|delete|disable|enable|rotate-secret OAuth2 clients
  keyward users      create|list|get|update|disable|enable|delete|set-password|reset-factors users
  keyward apikeys    create|list|get|revoke|roll API keys
  keyward resources  create|list|delete resource servers (RFC 8707 resource indicators)
  keyward registration-tokens  create|list|revoke initial access tokens for client registration (RFC 7591)
  keyward providers  create|list|delete upstream OpenID providers ("Sign in with …")
  keyward keys       list|rotate|import|revoke signing keys
  keyward bench      loopback load test of the token, introspection and API-key paths
  keyward healthcheck  exit 0 when a running server answers /readyz (for containers)
  keyward completion bash|zsh|fish shell completion script (e.g. source <(keyward completion bash))

Global flags (before or after the command): --data-dir, --database-url, --secret,
--secret-file, --format table|json, --log-format, --api-key-env, --jwks-max-age,
--admin-url, --admin-token-file.

Remote mode: with --admin-url URL (or KEYWARD_ADMIN_URL) the commands clients,
users, apikeys, resources, registration-tokens, providers and keys call that
server's admin API instead of opening the database, with the access token
(scope keyward:admin) in KEYWARD_ADMIN_TOKEN or --admin-token-file.
Durations take Go's units and days: 30d, 1d12h, 720h, 90s.

Run "keyward COMMAND --help" for a command's settings.
`

// Run runs the command in args and returns the exit code. With --format
// json a failure is written to standard error as one JSON object,
// {"error": {"code": "…", "message": "…"}}, with the same exit code.
func (m *Main) Run(ctx context.Context, args []string) int {
	err := m.run(ctx, args)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, pflag.ErrHelp):
		return exitOK
	}
	code := exitFailed
	var ue usageError
	if errors.As(err, &ue) {
		code = exitUsage
	}
	if m.Config.Format == "json" || wantsJSON(args) {
		m.emitError(err)
	} else {
		fmt.Fprintf(m.Stderr, "keyward: %s\n", indentJoined(err))
	}
	return code
}

// indentJoined prints err one problem per line: the errors of an
// errors.Join, walked (nested lists too), each numbered by a "- " and with
// its own continuation lines indented below it, so a multi-line message
// (a pgx connection error) stays one problem.
func indentJoined(err error) string {
	problems := flatten(err, nil)
	if len(problems) == 1 {
		return indent(problems[0].Error(), "  ")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems:", len(problems))
	for _, p := range problems {
		b.WriteString("\n  - " + indent(p.Error(), "    "))
	}
	return b.String()
}

// flatten appends the problems in err to out: the members of an
// errors.Join, or err itself. A wrapper is looked through only when its
// text is exactly what it wraps (usageError, a join), never when it adds
// context of its own (fmt.Errorf("x: %w", join)).
func flatten(err error, out []error) []error {
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		errs := u.Unwrap()
		texts := make([]string, 0, len(errs))
		for _, e := range errs {
			texts = append(texts, e.Error())
		}
		if strings.Join(texts, "\n") == err.Error() {
			for _, e := range errs {
				out = flatten(e, out)
			}
			return out
		}
	case interface{ Unwrap() error }:
		if inner := u.Unwrap(); inner != nil && inner.Error() == err.Error() {
			return flatten(inner, out)
		}
	}
	return append(out, err)
}

// indent puts prefix before every line of s but the first.
func indent(s, prefix string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}

func (m *Main) run(ctx context.Context, args []string) error {
	probe := probeFlags()
	m.globalArgs, args = leadingFlags(probe, args)
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, topUsage)
		return usagef("no command given")
	}
	cmd, rest := args[0], args[1:]
	// "keyward clients --data-dir X list": flags between a group and its
	// subcommand are global ones too.
	more, rest := leadingFlags(probe, rest)
	m.globalArgs = append(m.globalArgs, more...)
	switch cmd {
	case "serve":
		return m.serve(ctx, rest)
	case "migrate":
		return m.migrate(ctx, rest)
	case "version", "--version", "-v":
		return m.version(rest)
	case "clients":
		return m.clients(ctx, rest)
	case "users":
		return m.users(ctx, rest)
	case "apikeys":
		return m.apikeys(ctx, rest)
	case "resources":
		return m.resources(ctx, rest)
	case "registration-tokens":
		return m.registrationTokens(ctx, rest)
	case "providers":
		return m.providers(ctx, rest)
	case "keys":
		return m.keys(ctx, rest)
	case "bench":
		return m.bench(ctx, rest)
	case "healthcheck":
		return m.healthcheck(ctx, rest)
	case "completion":
		return m.completion(ctx, rest)
	case "help", "--help", "-h":
		fmt.Fprint(m.Stdout, topUsage)
		return nil
	default:
		fmt.Fprint(m.Stderr, topUsage)
		return usagef("unknown command %q", cmd)
	}
}

// flags returns a flag set for a command with the shared settings bound
// (and marked as such, for help).
func (m *Main) flags(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet("keyward "+name, pflag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	m.Config.bindCommon(fs)
	fs.VisitAll(func(f *pflag.Flag) { _ = fs.SetAnnotation(f.Name, globalAnnotation, []string{"true"}) })
	return fs
}

// parse parses the global flags given before the command, then args, into
// fs; a bad flag is a usage error. --help prints the command's help (its
// own flags, and the shared ones that apply) to standard output. Every
// duration flag reads days ("30d") too. An argument like "-mtv0q6…" (a
// signing key's kid may start with a dash) is taken as a positional
// argument, since no command has one-letter flags; "--" ends the flags as
// usual.
func (m *Main) parse(fs *pflag.FlagSet, args []string) error {
	readableDurations(fs)
	fs.Usage = func() {} // help is printed below, errors by Run
	all := append(append([]string(nil), m.globalArgs...), args...)
	if err := fs.Parse(dashedPositionals(fs, all)); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			m.printHelp(m.Stdout, fs)
			return err
		}
		return usageError{fmt.Errorf("%w (see \"%s --help\")", err, fs.Name())}
	}
	m.Config.applyEnv(fs)
	m.Config.readSecretFile()
	if err := refuseRemote(fs); err != nil {
		return err
	}
	if m.SetDefaultLogger {
		slog.SetDefault(m.log())
	}
	return nil
}

// Close releases everything Run opened, last opened first.
func (m *Main) Close() error {
	var errs []error
	for i := len(m.closers) - 1; i >= 0; i-- {
		errs = append(errs, m.closers[i]())
	}
	m.closers = nil
	return errors.Join(errs...)
}

func (m *Main) onClose(f func() error) { m.closers = append(m.closers, f) }

// cliContext attributes audit events of management commands to "cli".
func cliContext(ctx context.Context) context.Context { return store.WithActor(ctx, "cli") }

// version is "keyward version [--format json]".
func (m *Main) version(args []string) error {
	fs := m.flags("version")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	b := currentBuild()
	if m.Config.Format == "json" {
		return m.emit(b, nil, nil)
	}
	fmt.Fprintf(m.Stdout, "keyward %s (commit %s", b.Version, b.Commit)
	if b.BuildDate != "" {
		fmt.Fprintf(m.Stdout, ", built %s", b.BuildDate)
	}
	fmt.Fprintf(m.Stdout, ", %s)\n", b.Go)
	return nil
}

// dashedPositionals moves the arguments that start with a single dash and
// are not a defined shorthand flag (nor the value of the flag before them)
// after a "--", so that pflag reads them as positional arguments.
func dashedPositionals(fs *pflag.FlagSet, args []string) []string {
	var flags, positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		isShort := len(a) > 2 && a[0] == '-' && a[1] != '-'
		if isShort && fs.ShorthandLookup(a[1:2]) == nil {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		// A "--name value" flag takes the next argument as its value.
		if strings.HasPrefix(a, "--") && !strings.Contains(a, "=") && i+1 < len(args) {
			if f := fs.Lookup(a[2:]); f != nil && f.NoOptDefVal == "" {
				i++
				flags = append(flags, args[i])
			}
		}
	}
	if len(positional) == 0 {
		return flags
	}
	return append(append(flags, "--"), positional...)
}
