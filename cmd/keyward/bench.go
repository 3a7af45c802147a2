package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

var benchUsage = `usage: keyward bench [--duration 10s] [--connections 32] [--scenario all|NAME[,NAME...]]
                     [--compare-hello] [--hello-duration D] [--compare FILE] [--keys N] [--tokens N]
                     [--clients N] [--database-url URL] [--pprof-addr ADDR] [--format table|json]

Starts a throw-away server on loopback (SQLite in a temporary directory, or
the scratch database that --database-url names on the command line; the
environment's KEYWARD_DATABASE_URL is ignored) in a process of its own,
then drives each scenario from this process with the given number of
concurrent connections and prints requests per second, latency
percentiles and the server's peak resident memory. Scenarios: ` + benchScenarioList() + `.

--compare-hello also starts a "hello" handler (gin, nothing else) in a
process of its own, and runs it for --hello-duration (default a quarter of
--duration, at least 2s) before the first scenario and after each one:
each scenario's RATIO is its rate over the mean of the two hello runs on
either side of it, the share of the machine's HTTP round trip it reaches,
comparable across machines. HELLO ± is how far those two hello runs
differ, a measure of the noise. --keys N seeds N API keys in bulk and
verifies a different one on every request (a cold tour, then warm);
--tokens N seeds N opaque access tokens (COPY on PostgreSQL) for
introspect-opaque-many, which introspects a different one on every request;
the -warm scenarios tour a working set of 10,000 of them already read once
(the rate once warm); --clients N makes the -many and -warm scenarios
authenticate as each of N confidential clients in turn. SHARE is a -many
or -warm scenario's rate over the rate of its one-item scenario
(introspect-opaque, verify) in the same run.
SERVER MIB is the server process's peak resident set size during the
scenario (Linux: VmHWM, reset before each scenario). SERVER CPU and LOAD
CPU are the CPU time the server and the load generator (this process)
used per request during the scenario (Linux: /proc/PID/stat), steadier
than rates on a busy machine. --pprof-addr is
passed to the server (see serve --help).
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
	// HelloPerSecond and Ratio are set with --compare-hello: the mean rate
	// of the hello runs just before and just after the scenario
	// (HelloBefore, HelloAfter), and the scenario's rate over it.
	HelloPerSecond float64 `json:"hello_requests_per_second,omitempty"`
	Ratio          float64 `json:"ratio_to_hello,omitempty"`
	HelloBefore    float64 `json:"hello_before_requests_per_second,omitempty"`
	HelloAfter     float64 `json:"hello_after_requests_per_second,omitempty"`
	// RSS is the peak resident set size of the server and the load
	// generator during the scenario, in bytes: ServerRSS plus LoadRSS, each
	// process's own peak (so an upper bound of their sum at any moment).
	RSS int64 `json:"rss_bytes,omitempty"`
	// ServerRSS is the server process's peak resident set size during the
	// scenario; LoadRSS the bench process's (the load generator, with its
	// list of --keys); HelloRSS the hello process's peak during the hello
	// runs on either side of the scenario. Bytes; 0 where unknown.
	ServerRSS int64 `json:"server_rss_bytes,omitempty"`
	LoadRSS   int64 `json:"load_rss_bytes,omitempty"`
	HelloRSS  int64 `json:"hello_rss_bytes,omitempty"`
	// ServerCPU and LoadCPU are the CPU time (user and system) the server
	// process and the bench's own process (the load generator) used during
	// the scenario, per request (Linux; 0 where unknown).
	ServerCPU time.Duration `json:"server_cpu_per_request_ns,omitempty"`
	LoadCPU   time.Duration `json:"load_cpu_per_request_ns,omitempty"`
	// Seeded and SeedSeconds are, for introspect-opaque-many, the opaque
	// tokens seeded with --tokens and how long seeding took.
	Seeded      int     `json:"seeded_tokens,omitempty"`
	SeedSeconds float64 `json:"seed_seconds,omitempty"`
	// Machine names where it ran: CPUs, OS/arch and Go version.
	Machine string `json:"machine"`
	// Change is the relative change of PerSecond against --compare's run
	// of the same scenario (0.1 = 10% faster).
	Change *float64 `json:"change,omitempty"`
	// ShareOf and Share are set for a tour of many items (the -many and
	// -warm scenarios) when the scenario about one item (ShareOf) ran in
	// the same run: the tour's rate over that one's.
	ShareOf string  `json:"share_of,omitempty"`
	Share   float64 `json:"share_of_one_item,omitempty"`
}

// bench is "keyward bench": a loopback load test of the hot paths.
func (m *Main) bench(ctx context.Context, args []string) error {
	if len(args) > 0 && (args[0] == benchServeChild || args[0] == benchHelloChild) {
		return m.benchChildMain(ctx, args[0], args[1:])
	}
	fs := m.flags("bench")
	duration := fs.Duration("duration", 10*time.Second, "how long each scenario runs")
	conns := fs.Int("connections", 32, "concurrent connections")
	scenario := fs.String("scenario", "all", "all, or a comma-separated list of: "+strings.Join(benchScenarioNames(), ", "))
	hello := fs.Bool("compare-hello", false, "measure a hello handler (in a process of its own) beside each scenario and print each scenario's ratio to it")
	helloDur := fs.Duration("hello-duration", 0, "how long each hello run lasts (default a quarter of --duration, at least 2s, at most --duration)")
	compare := fs.String("compare", "", "an earlier run's --format json output to compare with")
	nkeys := fs.Int("keys", 1, "API keys to seed in bulk; verify-many uses a different one per request")
	ntokens := fs.Int("tokens", 1000, "opaque access tokens to seed in bulk; introspect-opaque-many uses a different one per request")
	nclients := fs.Int("clients", 1, "confidential clients the -many and -warm scenarios authenticate as in turn")
	pprofAddr := fs.String("pprof-addr", "", "the server's --pprof-addr (profile it under the bench's load)")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if *conns < 1 || *conns > 1024 || *duration <= 0 || *duration > 10*time.Minute || *nkeys < 1 || *nkeys > 10_000_000 ||
		*ntokens < 1 || *ntokens > 10_000_000 || *helloDur < 0 || *helloDur > 10*time.Minute ||
		*nclients < 1 || *nclients > 100_000 {
		return usagef("--connections 1..1024, --duration and --hello-duration up to 10m, --keys and --tokens 1..10000000, --clients 1..100000\n%s", benchUsage)
	}
	if *helloDur == 0 {
		*helloDur = min(max(*duration/4, 2*time.Second), *duration)
	}
	opts := benchOptions{conns: *conns, keys: *nkeys, clients: *nclients, duration: *duration, hello: *hello, pprofAddr: *pprofAddr}
	// Only a --database-url given here names the scratch database: the
	// KEYWARD_DATABASE_URL of the environment is likely a real one.
	if fs.Changed("database-url") {
		opts.dbURL = m.Config.DatabaseURL
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

	if slices.Contains(names, "introspect-opaque-many") || slices.Contains(names, "introspect-opaque-warm") {
		opts.tokens = *ntokens
	}
	env, err := m.benchServer(ctx, opts)
	if err != nil {
		return err
	}
	defer env.close()
	progress := m.progressOut()
	machine := fmt.Sprintf("%d CPUs, %s/%s, %s", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	self := newPeakRSS(0)

	// Hello runs before the first scenario and after each one, so every
	// scenario is compared with the two hello runs beside it in time.
	measureHello := func() (benchResult, error) {
		r := load(ctx, "hello", env.hello, *conns, *helloDur, progress, env.helloRSS)
		r.ServerRSS = env.helloRSS.peak()
		if r.Errors > 0 && r.Requests == r.Errors {
			return r, fmt.Errorf("bench: the hello handler failed every request")
		}
		return r, env.helloProc.alive()
	}
	var before benchResult
	if *hello {
		if before, err = measureHello(); err != nil {
			return err
		}
	}
	var results []benchResult
	for _, name := range names {
		fn, err := env.scenario(ctx, name)
		if err != nil {
			return fmt.Errorf("bench: preparing %s: %w", name, err)
		}
		serverCPU, selfCPU := markCPU(env.server.pid()), markCPU(0)
		r := load(ctx, name, fn, *conns, *duration, progress, env.serverRSS, self)
		r.ServerCPU, r.LoadCPU = serverCPU.since(r.Requests), selfCPU.since(r.Requests)
		if err := env.server.alive(); err != nil {
			return err
		}
		r.Machine = machine
		r.ServerRSS, r.LoadRSS = env.serverRSS.peak(), self.peak()
		r.RSS = r.ServerRSS + r.LoadRSS
		if name == "introspect-opaque-many" {
			r.Seeded, r.SeedSeconds = env.opaque.n, env.seeded.Seconds()
		}
		if *hello {
			after, err := measureHello()
			if err != nil {
				return err
			}
			r.HelloBefore, r.HelloAfter = before.PerSecond, after.PerSecond
			r.HelloPerSecond = (before.PerSecond + after.PerSecond) / 2
			r.Ratio = r.PerSecond / r.HelloPerSecond
			r.HelloRSS = max(before.ServerRSS, after.ServerRSS)
			before = after
		}
		results = append(results, r)
	}
	setShares(results)
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

// benchOneItem names, for each tour of many items, the scenario that asks
// about one item again and again: the tour's SHARE is its rate over that
// one's in the same run.
var benchOneItem = map[string]string{
	"introspect-opaque-many": "introspect-opaque",
	"introspect-opaque-warm": "introspect-opaque",
	"verify-many":            "verify",
	"verify-warm":            "verify",
}

// setShares sets each tour's share of its one-item scenario's rate, where
// both ran.
func setShares(results []benchResult) {
	rate := make(map[string]float64, len(results))
	for _, r := range results {
		rate[r.Scenario] = r.PerSecond
	}
	for i, r := range results {
		if one := benchOneItem[r.Scenario]; rate[one] > 0 {
			results[i].ShareOf, results[i].Share = one, r.PerSecond/rate[one]
		}
	}
}

// cpuCell shows a CPU time per request in microseconds ("-": unknown).
func cpuCell(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond))
}

// emitBench prints results as a table (with the machine named below it)
// or as JSON.
func (m *Main) emitBench(results []benchResult, hello, compared bool, machine string) error {
	header := []string{"SCENARIO", "REQ/S", "P50", "P99", "ERRORS", "SERVER MIB"}
	cpu := slices.ContainsFunc(results, func(r benchResult) bool { return r.ServerCPU > 0 })
	if cpu {
		header = append(header, "SERVER CPU", "LOAD CPU")
	}
	if hello {
		header = append(header, "HELLO REQ/S", "HELLO ±", "RATIO")
	}
	shares := slices.ContainsFunc(results, func(r benchResult) bool { return r.ShareOf != "" })
	if shares {
		header = append(header, "SHARE")
	}
	if compared {
		header = append(header, "CHANGE")
	}
	rows := make([][]string, 0, len(results))
	for _, r := range results {
		row := []string{r.Scenario, fmt.Sprintf("%.0f", r.PerSecond), r.P50.Round(time.Microsecond).String(),
			r.P99.Round(time.Microsecond).String(), fmt.Sprint(r.Errors), fmt.Sprintf("%.0f", float64(r.ServerRSS)/(1<<20))}
		if cpu {
			row = append(row, cpuCell(r.ServerCPU), cpuCell(r.LoadCPU))
		}
		if hello {
			spread := math.Abs(r.HelloAfter-r.HelloBefore) / 2 / r.HelloPerSecond
			row = append(row, fmt.Sprintf("%.0f", r.HelloPerSecond), fmt.Sprintf("%.1f%%", spread*100),
				fmt.Sprintf("%.2f", r.Ratio))
		}
		if shares {
			share := "-"
			if r.ShareOf != "" {
				share = fmt.Sprintf("%.2f", r.Share)
			}
			row = append(row, share)
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
		return benchScenarioNames(), nil
	}
	var out []string
	for _, name := range strings.Split(arg, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(benchScenarioNames(), name) {
			return nil, fmt.Errorf("unknown --scenario %q", name)
		}
		out = append(out, name)
	}
	return out, nil
}
