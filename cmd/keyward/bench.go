package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

const benchUsage = `usage: keyward bench [--duration 10s] [--connections 32] [--scenario all|NAME[,NAME...]]
                     [--compare-hello] [--compare FILE] [--keys N] [--tokens N] [--clients N] [--database-url URL]
                     [--format table|json]

Starts a throw-away server on loopback (SQLite in a temporary directory, or
the scratch database that --database-url names on the command line; the
environment's KEYWARD_DATABASE_URL is ignored), then drives each scenario with the
given number of concurrent connections and prints requests per second and
latency percentiles. Scenarios: ` + benchScenarioList + `.

--compare-hello also serves a "hello" handler (gin, nothing else) in the
same process and runs it before and after the scenarios: each scenario's
RATIO is its rate over hello's, the share of the machine's HTTP round trip
it reaches, comparable across machines. --keys N seeds N API keys in bulk
and verifies a different one on every request (a cold tour, then warm);
--tokens N seeds N opaque access tokens (COPY on PostgreSQL) for
introspect-opaque-many, which introspects a different one on every request;
--clients N makes the -many and -warm scenarios authenticate as each of N
confidential clients in turn.
RSS is the peak resident memory of the process (server and load
generator, with its list of --keys; the tokens stay in a file) while the
scenario ran.
--compare FILE prints the change against an earlier --format json run.
A progress line is shown on a terminal.`

// benchResult is one scenario's measurement.
type benchResult struct {
	Scenario    string        `json:"scenario"`
	Requests    int64         `json:"requests"`
	Errors      int64         `json:"errors"`
	Seconds     float64       `json:"seconds"`
	PerSecond   float64       `json:"requests_per_second"`
	P50         time.Duration `json:"p50_ns"`
	P99         time.Duration `json:"p99_ns"`
	Connections int           `json:"connections"`
	// HelloPerSecond and Ratio are set with --compare-hello.
	HelloPerSecond float64 `json:"hello_requests_per_second,omitempty"`
	Ratio          float64 `json:"ratio_to_hello,omitempty"`
	// RSS is the peak resident set size of the process (the server and
	// the load generator) during the scenario, in bytes.
	RSS int64 `json:"rss_bytes,omitempty"`
	// Seeded and SeedSeconds are, for introspect-opaque-many, the opaque
	// tokens seeded with --tokens and how long seeding took.
	Seeded      int     `json:"seeded_tokens,omitempty"`
	SeedSeconds float64 `json:"seed_seconds,omitempty"`
	// Machine names where it ran: CPUs, OS/arch and Go version.
	Machine string `json:"machine"`
	// Change is the relative change of PerSecond against --compare's run
	// of the same scenario (0.1 = 10% faster).
	Change *float64 `json:"change,omitempty"`
}

// bench is "keyward bench": a loopback load test of the hot paths.
func (m *Main) bench(ctx context.Context, args []string) error {
	fs := m.flags("bench")
	duration := fs.Duration("duration", 10*time.Second, "how long each scenario runs")
	conns := fs.Int("connections", 32, "concurrent connections")
	scenario := fs.String("scenario", "all", "all, or a comma-separated list of: "+benchScenarioList)
	hello := fs.Bool("compare-hello", false, "measure an in-process hello handler too and print each scenario's ratio to it")
	compare := fs.String("compare", "", "an earlier run's --format json output to compare with")
	nkeys := fs.Int("keys", 1, "API keys to seed in bulk; verify-many uses a different one per request")
	ntokens := fs.Int("tokens", 1000, "opaque access tokens to seed in bulk; introspect-opaque-many uses a different one per request")
	nclients := fs.Int("clients", 1, "confidential clients the -many and -warm scenarios authenticate as in turn")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if *conns < 1 || *conns > 1024 || *duration <= 0 || *duration > 10*time.Minute || *nkeys < 1 || *nkeys > 10_000_000 ||
		*ntokens < 1 || *ntokens > 10_000_000 || *nclients < 1 || *nclients > 100_000 {
		return usagef("--connections 1..1024, --duration up to 10m, --keys and --tokens 1..10000000, --clients 1..100000\n%s", benchUsage)
	}
	// Only a --database-url given here names the scratch database: the
	// KEYWARD_DATABASE_URL of the environment is likely a real one.
	dbURL := ""
	if fs.Changed("database-url") {
		dbURL = m.Config.DatabaseURL
	}
	names, err := benchSelect(*scenario)
	if err != nil {
		return usagef("%v\n%s", err, benchUsage)
	}
	var earlier []benchResult
	if *compare != "" {
		b, err := os.ReadFile(*compare)
		if err != nil {
			return usagef("--compare: %v", err)
		}
		if err := json.Unmarshal(b, &earlier); err != nil {
			return usagef("--compare %s: not the --format json output of keyward bench: %v", *compare, err)
		}
	}

	seedTokens := 0
	if slices.Contains(names, "introspect-opaque-many") || slices.Contains(names, "introspect-opaque-warm") {
		seedTokens = *ntokens
	}
	env, err := m.benchServer(ctx, dbURL, *conns, *nkeys, seedTokens, *nclients, *duration)
	if err != nil {
		return err
	}
	defer env.close()
	progress := m.progressOut()
	machine := fmt.Sprintf("%d CPUs, %s/%s, %s", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())

	var helloRates []float64
	measureHello := func() error {
		if !*hello {
			return nil
		}
		r := load(ctx, "hello", env.hello, *conns, *duration, progress)
		if r.Errors > 0 && r.Requests == r.Errors {
			return fmt.Errorf("bench: the hello handler failed every request")
		}
		helloRates = append(helloRates, r.PerSecond)
		return nil
	}
	if err := measureHello(); err != nil {
		return err
	}
	var results []benchResult
	for _, name := range names {
		fn, err := env.scenario(ctx, name)
		if err != nil {
			return fmt.Errorf("bench: preparing %s: %w", name, err)
		}
		r := load(ctx, name, fn, *conns, *duration, progress)
		r.Machine = machine
		if name == "introspect-opaque-many" {
			r.Seeded, r.SeedSeconds = env.opaque.n, env.seeded.Seconds()
		}
		results = append(results, r)
	}
	if err := measureHello(); err != nil {
		return err
	}
	if len(helloRates) > 0 {
		h := (helloRates[0] + helloRates[len(helloRates)-1]) / 2
		for i := range results {
			results[i].HelloPerSecond, results[i].Ratio = h, results[i].PerSecond/h
		}
	}
	for i := range results {
		for _, e := range earlier {
			if e.Scenario == results[i].Scenario && e.PerSecond > 0 {
				c := results[i].PerSecond/e.PerSecond - 1
				results[i].Change = &c
			}
		}
	}
	return m.emitBench(results, *hello, len(earlier) > 0, machine)
}

// emitBench prints results as a table (with the machine named below it)
// or as JSON.
func (m *Main) emitBench(results []benchResult, hello, compared bool, machine string) error {
	header := []string{"SCENARIO", "REQ/S", "P50", "P99", "ERRORS", "RSS MIB"}
	if hello {
		header = append(header, "HELLO REQ/S", "RATIO")
	}
	if compared {
		header = append(header, "CHANGE")
	}
	rows := make([][]string, 0, len(results))
	for _, r := range results {
		row := []string{r.Scenario, fmt.Sprintf("%.0f", r.PerSecond), r.P50.Round(time.Microsecond).String(),
			r.P99.Round(time.Microsecond).String(), fmt.Sprint(r.Errors), fmt.Sprintf("%.0f", float64(r.RSS)/(1<<20))}
		if hello {
			row = append(row, fmt.Sprintf("%.0f", r.HelloPerSecond), fmt.Sprintf("%.2f", r.Ratio))
		}
		if compared {
			change := "-"
			if r.Change != nil {
				change = fmt.Sprintf("%+.1f%%", *r.Change*100)
			}
			row = append(row, change)
		}
		rows = append(rows, row)
	}
	if err := m.emit(results, header, rows); err != nil {
		return err
	}
	if m.Config.Format != "json" {
		fmt.Fprintf(m.Stdout, "\nmachine: %s\n", machine)
	}
	return nil
}

// progressOut is where the live progress line goes: stderr when it is a
// terminal, nowhere otherwise (logs and CI output stay clean).
func (m *Main) progressOut() io.Writer {
	if f, ok := m.Stderr.(*os.File); ok && !m.Config.jsonLogs(f) && m.Config.LogFormat != "text" {
		return f
	}
	return nil
}

// benchSecret is a random system secret for a bench run's server.
func benchSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// listenLoopback opens a listener on a free loopback port.
func listenLoopback() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

// benchHTTPClient is the load generator's client: keep-alive connections,
// one per worker.
func benchHTTPClient(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns,
		DisableCompression: true}, Timeout: 10 * time.Second}
}

// benchSelect returns the scenarios --scenario names, in the canonical
// order.
func benchSelect(arg string) ([]string, error) {
	if arg == "all" || arg == "" {
		return slices.Clone(benchScenarios), nil
	}
	var out []string
	for _, name := range strings.Split(arg, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(benchScenarios, name) {
			return nil, fmt.Errorf("unknown --scenario %q", name)
		}
		out = append(out, name)
	}
	return out, nil
}
