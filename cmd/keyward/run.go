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
	// SpanExporter, when set, turns serve's tracing on and receives each
	// span as it ends, instead of the OTLP endpoint (tests use the SDK's
	// in-memory exporter).
	SpanExporter sdktrace.SpanExporter
	// OutboundRootCAs, when set, replaces the system roots for what
	// Keyward fetches (tests trusting an httptest TLS server).
	OutboundRootCAs *x509.CertPool

	logger  *slog.Logger
	closers []func() error
	// tracing is serve's tracing, nil when off (startTracing).
	tracing *tracing
}

// NewMain returns a Main on the process's standard streams.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, SetDefaultLogger: true}
}

// usageError is a mistake in the command line or the settings: exit 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// groupHelp prints a command group's usage to standard output when its
// subcommand is --help, -h or help ("keyward clients --help"), and
// reports whether it did: asking for help is no mistake.
func (m *Main) groupHelp(sub, usage string) bool {
	switch sub {
	case "--help", "-h", "help":
		fmt.Fprintln(m.Stdout, usage)
		return true
	}
	return false
}

const topUsage = `Keyward — OAuth2 / OpenID Connect authorization server with API keys.

Usage:
  keyward serve      start the server (SQLite under --data-dir unless --database-url)
  keyward migrate    apply pending database migrations and exit
  keyward version    print the version
  keyward clients    create|update|list|get|delete|disable|enable|rotate-secret OAuth2 clients
  keyward users      create users
  keyward apikeys    create|list|get|revoke|roll API keys
  keyward resources  create|list|delete resource servers (RFC 8707 resource indicators)
  keyward keys       list|rotate|import|revoke signing keys
  keyward bench      loopback load test of the token, introspection and API-key paths
  keyward healthcheck  exit 0 when a running server answers /readyz (for containers)

Run "keyward COMMAND --help" for a command's settings.
`

// Run runs the command in args and returns the exit code.
func (m *Main) Run(ctx context.Context, args []string) int {
	err := m.run(ctx, args)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, pflag.ErrHelp):
		return exitOK
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(m.Stderr, "keyward: %s\n", indentJoined(err))
		return exitUsage
	}
	fmt.Fprintf(m.Stderr, "keyward: %s\n", indentJoined(err))
	return exitFailed
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
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, topUsage)
		return usagef("no command given")
	}
	cmd, rest := args[0], args[1:]
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
	case "keys":
		return m.keys(ctx, rest)
	case "bench":
		return m.bench(ctx, rest)
	case "healthcheck":
		return m.healthcheck(ctx, rest)
	case "help", "--help", "-h":
		fmt.Fprint(m.Stdout, topUsage)
		return nil
	default:
		fmt.Fprint(m.Stderr, topUsage)
		return usagef("unknown command %q", cmd)
	}
}

// flags returns a flag set for a command with the shared settings bound.
func (m *Main) flags(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet("keyward "+name, pflag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	m.Config.bindCommon(fs)
	return fs
}

// parse parses args into fs; a bad flag is a usage error. An argument
// like "-mtv0q6…" (a signing key's kid may start with a dash) is taken as
// a positional argument, since no command has one-letter flags; "--"
// ends the flags as usual.
func (m *Main) parse(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(dashedPositionals(fs, args)); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	m.Config.applyEnv(fs)
	m.Config.readSecretFile()
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
	if m.Config.Format == "json" {
		return m.emit(map[string]string{"version": Version}, nil, nil)
	}
	fmt.Fprintf(m.Stdout, "keyward %s\n", Version)
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
