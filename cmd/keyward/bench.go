package main

import (
	"cmp"
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
                     [--compare-hello] [--hello-duration D] [--rounds N] [--compare FILE] [--keys N]
                     [--tokens N] [--clients N] [--database-url URL] [--pprof-addr ADDR]
                     [--load-client fasthttp|net/http]
                     [--format table|json]

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
than rates on a busy machine; HELLO CPU is the hello process's, over the
hello runs beside the scenario. --pprof-addr is
passed to the server (see serve --help).
--load-client picks the load generator's HTTP client: fasthttp (the
default) gives the ratios wrk gives, net/http (twice its cost a request)
higher ones. What the load generator costs weighs on the scenario and on hello
alike and pulls every ratio toward 1, so ratios are comparable only
between runs with the same client (--compare refuses another's).
--rounds N runs the scenarios N times in turn (the whole list, then again),
each run beside its own hello runs, and reports each scenario's median
run: the run whose RATIO (or, without --compare-hello, whose rate) is the
median of the scenario's runs, with RATIO RANGE and SHARE RANGE the lowest
and highest of them and SHARE the median of each run's share; ERRORS
counts every run's. A cold tour goes on where its run before stopped,
so give --keys and --tokens enough items for all the rounds.
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
	// HelloServerCPU and HelloLoadCPU are the same for the hello runs
	// beside the scenario (the mean of the two; with --compare-hello):
	// ServerCPU - HelloServerCPU is what the scenario's path costs the
	// server above a bare gin handler, a figure the machine's drift
	// moves far less than it moves rates.
	HelloServerCPU time.Duration `json:"hello_server_cpu_per_request_ns,omitempty"`
	HelloLoadCPU   time.Duration `json:"hello_load_cpu_per_request_ns,omitempty"`
	// Seeded and SeedSeconds are, for introspect-opaque-many, the opaque
	// tokens seeded with --tokens and how long seeding took.
	Seeded      int     `json:"seeded_tokens,omitempty"`
	SeedSeconds float64 `json:"seed_seconds,omitempty"`
	// Machine names where it ran: CPUs, OS/arch and Go version.
	Machine string `json:"machine"`
	// LoadClient is the load generator's HTTP client (--load-client);
	// empty in the output of versions before it was a choice, which all
	// used net/http.
	LoadClient string `json:"load_client,omitempty"`
	// Rounds is how many runs of the scenario (--rounds) this result is
	// the median of; Rates, Ratios and Shares are each run's rate, ratio
	// to hello and share, in the order they ran (set when Rounds > 1).
	Rounds int       `json:"rounds,omitempty"`
	Rates  []float64 `json:"rounds_requests_per_second,omitempty"`
	Ratios []float64 `json:"rounds_ratio_to_hello,omitempty"`
	Shares []float64 `json:"rounds_share_of_one_item,omitempty"`
	// Change is the relative change of PerSecond against --compare's run
	// of the same scenario (0.1 = 10% faster).
	Change *float64 `json:"change,omitempty"`
	// ShareOf and Share are set for a tour of many items (the -many and
	// -warm scenarios) when the scenario about one item (ShareOf) ran in
	// the same run: the tour's ratio to hello over that one's with
	// --compare-hello (so that the machine's drift between the two,
	// minutes apart, cancels as it does in each ratio), else the tour's
	// rate over that one's.
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
	rounds := fs.Int("rounds", 1, "run the scenarios this many times in turn and report each one's median run")
	loadClient := fs.String("load-client", loadClientFast, "the load generator's HTTP client: fasthttp (ratios as wrk's) or net/http (twice fasthttp's cost a request; the bench's client before 2026-12-07)")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if *conns < 1 || *conns > 1024 || *duration <= 0 || *duration > 10*time.Minute || *nkeys < 1 || *nkeys > 10_000_000 ||
		*ntokens < 1 || *ntokens > 10_000_000 || *helloDur < 0 || *helloDur > 10*time.Minute ||
		*nclients < 1 || *nclients > 100_000 || *rounds < 1 || *rounds > 20 {
		return usagef("--connections 1..1024, --duration and --hello-duration up to 10m, --keys and --tokens 1..10000000, --clients 1..100000, --rounds 1..20\n%s", benchUsage)
	}
	if *helloDur == 0 {
		*helloDur = min(max(*duration/4, 2*time.Second), *duration)
	}
	if !slices.Contains(loadClients, *loadClient) {
		return usagef("--load-client: one of %s\n%s", strings.Join(loadClients, ", "), benchUsage)
	}
	opts := benchOptions{conns: *conns, keys: *nkeys, clients: *nclients, duration: *duration, hello: *hello,
		pprofAddr: *pprofAddr, loadClient: *loadClient}
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
		// Rates measured with another load generator differ by its cost,
		// not by the server's.
		for _, e := range earlier {
			if c := cmp.Or(e.LoadClient, loadClientNetHTTP); c != *loadClient {
				return usagef("--compare %s was measured with --load-client %s; run with --load-client %s to compare", *compare, c, c)
			}
		}
	}

	// The refresh scenario's user costs a password hash to create.
	opts.app = slices.Contains(names, "refresh")
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
		serverCPU, selfCPU := markCPU(env.helloProc.pid()), markCPU(0)
		r := load(ctx, "hello", env.hello, *conns, *helloDur, progress, env.helloRSS)
		r.ServerCPU, r.LoadCPU = serverCPU.since(r.Requests), selfCPU.since(r.Requests)
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
	// runScenario is one run of name, set (with --compare-hello) beside
	// the hello run before it and the one after it, which it returns for
	// the next run.
	runScenario := func(name string, before benchResult) (r, after benchResult, err error) {
		fn, err := env.scenario(ctx, name)
		if err != nil {
			return r, after, fmt.Errorf("bench: preparing %s: %w", name, err)
		}
		serverCPU, selfCPU := markCPU(env.server.pid()), markCPU(0)
		r = load(ctx, name, fn, *conns, *duration, progress, env.serverRSS, self)
		r.ServerCPU, r.LoadCPU = serverCPU.since(r.Requests), selfCPU.since(r.Requests)
		if err := env.server.alive(); err != nil {
			return r, after, err
		}
		r.Machine, r.LoadClient = machine, *loadClient
		r.ServerRSS, r.LoadRSS = env.serverRSS.peak(), self.peak()
		r.RSS = r.ServerRSS + r.LoadRSS
		if name == "introspect-opaque-many" {
			r.Seeded, r.SeedSeconds = env.opaque.n, env.seeded.Seconds()
		}
		if !*hello {
			return r, after, nil
		}
		if after, err = measureHello(); err != nil {
			return r, after, err
		}
		r.HelloBefore, r.HelloAfter = before.PerSecond, after.PerSecond
		r.HelloPerSecond = (before.PerSecond + after.PerSecond) / 2
		r.Ratio = r.PerSecond / r.HelloPerSecond
		r.HelloRSS = max(before.ServerRSS, after.ServerRSS)
		if before.ServerCPU > 0 && after.ServerCPU > 0 {
			r.HelloServerCPU = (before.ServerCPU + after.ServerCPU) / 2
			r.HelloLoadCPU = (before.LoadCPU + after.LoadCPU) / 2
		}
		return r, after, nil
	}
	runs := make([][]benchResult, 0, *rounds)
	for range *rounds {
		results := make([]benchResult, 0, len(names))
		for _, name := range names {
			r, after, err := runScenario(name, before)
			if err != nil {
				return err
			}
			before = after
			results = append(results, r)
		}
		setShares(results)
		runs = append(runs, results)
	}
	results := medianRuns(runs, *hello)
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

// medianRuns combines the rounds of a run (each round the same scenarios
// in the same order) into one result a scenario: its median run (by ratio
// to hello when byRatio, else by rate; the lower middle of an even
// number), with every run's rate, ratio and share beside it, the median
// of the shares, and the errors of all its runs. One round is returned as
// it is.
func medianRuns(runs [][]benchResult, byRatio bool) []benchResult {
	if len(runs) == 1 {
		return runs[0]
	}
	key := func(r benchResult) float64 {
		if byRatio {
			return r.Ratio
		}
		return r.PerSecond
	}
	out := make([]benchResult, len(runs[0]))
	for i := range out {
		all := make([]benchResult, len(runs))
		for k, round := range runs {
			all[k] = round[i]
		}
		sorted := slices.Clone(all)
		slices.SortStableFunc(sorted, func(a, b benchResult) int { return cmp.Compare(key(a), key(b)) })
		med := sorted[(len(sorted)-1)/2]
		med.Rounds, med.Errors = len(all), 0
		for _, r := range all {
			med.Errors += r.Errors
			med.Rates = append(med.Rates, r.PerSecond)
			if byRatio {
				med.Ratios = append(med.Ratios, r.Ratio)
			}
			if r.ShareOf != "" {
				med.Shares = append(med.Shares, r.Share)
			}
		}
		if len(med.Shares) > 0 {
			shares := slices.Sorted(slices.Values(med.Shares))
			med.Share = shares[(len(shares)-1)/2]
		}
		out[i] = med
	}
	return out
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

// setShares sets each tour's share of its one-item scenario, where both
// ran: of its ratio to hello when both have one, else of its rate.
func setShares(results []benchResult) {
	byName := make(map[string]benchResult, len(results))
	for _, r := range results {
		byName[r.Scenario] = r
	}
	for i, r := range results {
		one, ok := byName[benchOneItem[r.Scenario]]
		switch {
		case !ok:
		case r.Ratio > 0 && one.Ratio > 0:
			results[i].ShareOf, results[i].Share = one.Scenario, r.Ratio/one.Ratio
		case one.PerSecond > 0:
			results[i].ShareOf, results[i].Share = one.Scenario, r.PerSecond/one.PerSecond
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
		if cpu {
			header = append(header, "HELLO CPU")
		}
		header = append(header, "HELLO REQ/S", "HELLO ±", "RATIO")
	}
	rounds := slices.ContainsFunc(results, func(r benchResult) bool { return r.Rounds > 1 })
	if hello && rounds {
		header = append(header, "RATIO RANGE")
	}
	shares := slices.ContainsFunc(results, func(r benchResult) bool { return r.ShareOf != "" })
	if shares {
		header = append(header, "SHARE")
		if rounds {
			header = append(header, "SHARE RANGE")
		}
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
			if cpu {
				row = append(row, cpuCell(r.HelloServerCPU))
			}
			row = append(row, fmt.Sprintf("%.0f", r.HelloPerSecond), fmt.Sprintf("%.1f%%", spread*100),
				fmt.Sprintf("%.2f", r.Ratio))
			if rounds {
				row = append(row, rangeCell(r.Ratios))
			}
		}
		if shares {
			share := "-"
			if r.ShareOf != "" {
				share = fmt.Sprintf("%.2f", r.Share)
			}
			row = append(row, share)
			if rounds {
				row = append(row, rangeCell(r.Shares))
			}
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
		if len(results) > 0 {
			fmt.Fprintf(m.Stdout, "load client: %s\n", results[0].LoadClient)
		}
		if rounds {
			fmt.Fprintf(m.Stdout, "each row: the median of %d runs\n", results[0].Rounds)
		}
	}
	return nil
}

// rangeCell shows the lowest and highest of vs ("-": none).
func rangeCell(vs []float64) string {
	if len(vs) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f–%.2f", slices.Min(vs), slices.Max(vs))
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
