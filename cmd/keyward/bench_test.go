package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/store/postgres/pgtest"
)

// TestMain lets the test binary stand in for keyward when bench starts its
// children from its own executable ("keyward bench serve-child …").
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "bench" && (os.Args[2] == benchServeChild || os.Args[2] == benchHelloChild) {
		main() // exits
	}
	os.Exit(m.Run())
}

// runBench runs keyward bench with args and decodes its JSON output.
func runBench(t *testing.T, args ...string) []benchResult {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}
	code := m.Run(context.Background(), append([]string{"bench", "--format", "json"}, args...))
	m.Close()
	if code != 0 {
		t.Fatalf("bench exit %d: %s", code, errb.String())
	}
	var results []benchResult
	if err := json.Unmarshal(out.Bytes(), &results); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	return results
}

// TestBenchCommand runs every scenario of keyward bench briefly beside the
// hello handler: each must serve without errors and get a ratio to the
// hello runs on either side of it (the numbers themselves belong in the
// closing notes, not in assertions), and the server's memory apart from the
// load generator's; a second run compared with the first reports the change.
func TestBenchCommand(t *testing.T) {
	t.Parallel()
	results := runBench(t, "--duration", "200ms", "--hello-duration", "100ms", "--connections", "4", "--compare-hello",
		"--keys", "50")
	if len(results) != len(benchScenarios) {
		t.Fatalf("want %d scenarios, got %+v", len(benchScenarios), results)
	}
	for i, r := range results {
		if r.Scenario != benchScenarios[i].name || r.Requests == 0 || r.Errors != 0 || r.Ratio <= 0 || r.HelloPerSecond <= 0 {
			t.Errorf("%s: %d requests, %d errors, ratio %.2f to hello at %.0f/s", r.Scenario, r.Requests, r.Errors,
				r.Ratio, r.HelloPerSecond)
		}
		if r.HelloBefore <= 0 || r.HelloAfter <= 0 || r.HelloPerSecond != (r.HelloBefore+r.HelloAfter)/2 {
			t.Errorf("%s: hello %.0f/s, not the mean of the runs beside it (%.0f/s, %.0f/s)", r.Scenario,
				r.HelloPerSecond, r.HelloBefore, r.HelloAfter)
		}
		// Each scenario's hello before is the one after the scenario before it.
		if i > 0 && r.HelloBefore != results[i-1].HelloAfter {
			t.Errorf("%s: hello before %.0f/s, but %.0f/s after %s", r.Scenario, r.HelloBefore,
				results[i-1].HelloAfter, results[i-1].Scenario)
		}
		if r.Machine == "" {
			t.Errorf("%s: the machine is not named", r.Scenario)
		}
		if r.LoadClient != loadClientFast {
			t.Errorf("%s: load client %q, want fasthttp (the default)", r.Scenario, r.LoadClient)
		}
		if r.ServerRSS < 1<<20 || r.LoadRSS < 1<<20 || r.HelloRSS < 1<<20 || r.RSS != r.ServerRSS+r.LoadRSS {
			t.Errorf("%s: RSS %d bytes = server %d + load generator %d; hello %d", r.Scenario, r.RSS, r.ServerRSS,
				r.LoadRSS, r.HelloRSS)
		}
		if (r.Scenario == "introspect-opaque-many") != (r.Seeded > 0) {
			t.Errorf("%s: %d seeded tokens", r.Scenario, r.Seeded)
		}
	}
	// On Linux each scenario's CPU per request is read from /proc.
	if runtime.GOOS == "linux" {
		var server, loadGen, hello time.Duration // a scenario of 200 ms may use less than /proc's 10 ms tick; all of them not
		for _, r := range results {
			if r.ServerCPU < 0 || r.LoadCPU < 0 || r.ServerCPU > time.Second || r.LoadCPU > time.Second ||
				r.HelloServerCPU < 0 || r.HelloLoadCPU < 0 || r.HelloServerCPU > time.Second || r.HelloLoadCPU > time.Second {
				t.Errorf("%s: CPU per request: server %v, load generator %v; beside hello %v and %v", r.Scenario,
					r.ServerCPU, r.LoadCPU, r.HelloServerCPU, r.HelloLoadCPU)
			}
			server += r.ServerCPU * time.Duration(r.Requests)
			loadGen += r.LoadCPU * time.Duration(r.Requests)
			hello += r.HelloServerCPU
		}
		t.Logf("CPU over the scenarios: server %v, load generator %v; hello's server per request, summed: %v", server, loadGen, hello)
		if server <= 0 || loadGen <= 0 || hello <= 0 {
			t.Errorf("CPU over the scenarios: server %v, load generator %v, hello %v; want all measured", server, loadGen, hello)
		}
	}
	// Each tour of many items is a share of its one-item scenario's ratio
	// to hello (hello ran beside each).
	rate := map[string]float64{}
	for _, r := range results {
		rate[r.Scenario] = r.Ratio
	}
	shares := 0
	for _, r := range results {
		one, tour := benchOneItem[r.Scenario]
		if !tour {
			if r.ShareOf != "" || r.Share != 0 {
				t.Errorf("%s: a share (%.2f of %q) but not a tour", r.Scenario, r.Share, r.ShareOf)
			}
			continue
		}
		shares++
		if r.ShareOf != one || rate[one] == 0 || r.Share != r.Ratio/rate[one] {
			t.Errorf("%s: share %.2f of %q, want its ratio %.2f over %s's %.2f", r.Scenario, r.Share, r.ShareOf,
				r.Ratio, one, rate[one])
		}
	}
	if shares != len(benchOneItem) {
		t.Errorf("%d tours had a share, want %d (a name in benchOneItem that is not a scenario?)", shares, len(benchOneItem))
	}
	earlier := filepath.Join(t.TempDir(), "earlier.json")
	b, _ := json.Marshal(results)
	if err := os.WriteFile(earlier, b, 0o600); err != nil {
		t.Fatal(err)
	}
	again := runBench(t, "--duration", "100ms", "--connections", "2", "--scenario", "verify,jwks", "--compare", earlier)
	if len(again) != 2 || again[0].Scenario != "verify" || again[1].Scenario != "jwks" {
		t.Fatalf("--scenario verify,jwks ran %+v", again)
	}
	for _, r := range again {
		if r.Change == nil {
			t.Errorf("%s: no change against the earlier run", r.Scenario)
		}
	}
	// Rates of another load generator are not compared.
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}
	defer m.Close()
	if code := m.Run(context.Background(), []string{"bench", "--duration", "100ms", "--scenario", "jwks",
		"--load-client", "net/http", "--compare", earlier}); code != 2 || !strings.Contains(errb.String(), "--load-client fasthttp") {
		t.Errorf("--load-client net/http --compare a fasthttp run: exit %d, %q; want 2, naming --load-client fasthttp", code, errb.String())
	}
}

// TestBenchNetHTTPClient: the net/http load client runs the scenarios
// that read an answer (a token minted, then introspected) as well as
// those that do not, and its results say which client measured them.
func TestBenchNetHTTPClient(t *testing.T) {
	t.Parallel()
	results := runBench(t, "--duration", "150ms", "--connections", "3", "--scenario", "token,introspect,verify,jwks",
		"--load-client", "net/http")
	if len(results) != 4 {
		t.Fatalf("ran %+v", results)
	}
	for _, r := range results {
		if r.Requests == 0 || r.Errors != 0 || r.LoadClient != loadClientNetHTTP {
			t.Errorf("%s: %d requests, %d errors, load client %q", r.Scenario, r.Requests, r.Errors, r.LoadClient)
		}
	}
}

// TestBasicAuth: the load clients send the header net/http's
// SetBasicAuth would, and none without a client id.
func TestBasicAuth(t *testing.T) {
	for _, c := range [][2]string{{"client", "s3cret"}, {"01a2-b3", "a:b+c/="}, {"ü", ""}} {
		req, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
		req.SetBasicAuth(c[0], c[1])
		if got, want := basicAuth(c[0], c[1]), req.Header.Get("Authorization"); got != want {
			t.Errorf("basicAuth(%q, %q) = %q, want %q", c[0], c[1], got, want)
		}
	}
	if got := basicAuth("", "x"); got != "" {
		t.Errorf("basicAuth without an id = %q, want none", got)
	}
}

// TestBenchPostgres runs the API-key and introspection scenarios on
// PostgreSQL (--database-url), with keys seeded in bulk, and the warm tour
// of the keys, with 20 clients calling in turn, and refresh-token
// rotations.
func TestBenchPostgres(t *testing.T) {
	t.Parallel()
	url := pgtest.Schema(t)
	results := runBench(t, "--duration", "150ms", "--connections", "4", "--keys", "1500", "--tokens", "60000", "--clients", "20",
		"--scenario", "refresh,verify-many,verify-warm,introspect-opaque,introspect-opaque-many", "--database-url", url)
	for _, r := range results {
		if r.Requests == 0 || r.Errors != 0 {
			t.Errorf("%s on PostgreSQL: %d requests, %d errors", r.Scenario, r.Requests, r.Errors)
		}
	}
	if last := results[len(results)-1]; last.Scenario != "introspect-opaque-many" || last.Seeded != 60000 {
		t.Errorf("introspect-opaque-many: %+v, want 60000 seeded tokens (two COPY batches)", last)
	}
}

// TestBenchRounds runs two scenarios three times in turn beside the hello
// handler: each row is one of its runs (the median by ratio), with every
// run's rate and ratio, and the tour's shares, one a round.
func TestBenchRounds(t *testing.T) {
	t.Parallel()
	results := runBench(t, "--duration", "150ms", "--hello-duration", "100ms", "--connections", "2", "--compare-hello",
		"--rounds", "3", "--tokens", "2000", "--scenario", "introspect-opaque,introspect-opaque-many")
	if len(results) != 2 || results[0].Scenario != "introspect-opaque" || results[1].Scenario != "introspect-opaque-many" {
		t.Fatalf("ran %+v", results)
	}
	for _, r := range results {
		if r.Rounds != 3 || len(r.Rates) != 3 || len(r.Ratios) != 3 || r.Errors != 0 {
			t.Errorf("%s: %d rounds, rates %v, ratios %v, %d errors", r.Scenario, r.Rounds, r.Rates, r.Ratios, r.Errors)
			continue
		}
		sorted := slices.Sorted(slices.Values(r.Ratios))
		if r.Ratio != sorted[1] || !slices.Contains(r.Rates, r.PerSecond) || r.Ratio != r.PerSecond/r.HelloPerSecond {
			t.Errorf("%s: ratio %.3f at %.0f/s, not the median run of %v (rates %v)", r.Scenario, r.Ratio, r.PerSecond,
				r.Ratios, r.Rates)
		}
	}
	tour := results[1]
	if len(tour.Shares) != 3 || tour.Share != slices.Sorted(slices.Values(tour.Shares))[1] {
		t.Errorf("the tour's share %.3f is not the median of %v", tour.Share, tour.Shares)
	}
	if results[0].Shares != nil {
		t.Errorf("introspect-opaque has shares %v", results[0].Shares)
	}
}

// TestMedianRuns: the median run of each scenario is chosen by ratio (or
// by rate without hello runs), the errors of every run are counted, the
// share is the median of each run's, and one round is left as it is.
func TestMedianRuns(t *testing.T) {
	run := func(rate, ratio, share float64, errs int64) []benchResult {
		r := benchResult{Scenario: "verify-many", PerSecond: rate, Ratio: ratio, Errors: errs}
		if share > 0 {
			r.ShareOf, r.Share = "verify", share
		}
		return []benchResult{r}
	}
	got := medianRuns([][]benchResult{run(900, 0.5, 0.7, 1), run(1000, 0.4, 0.9, 0), run(800, 0.6, 0.5, 2)}, true)[0]
	if got.PerSecond != 900 || got.Ratio != 0.5 || got.Errors != 3 || got.Rounds != 3 {
		t.Errorf("by ratio: %+v", got)
	}
	if !slices.Equal(got.Rates, []float64{900, 1000, 800}) || !slices.Equal(got.Ratios, []float64{0.5, 0.4, 0.6}) ||
		!slices.Equal(got.Shares, []float64{0.7, 0.9, 0.5}) || got.Share != 0.7 {
		t.Errorf("runs: rates %v ratios %v shares %v, share %v", got.Rates, got.Ratios, got.Shares, got.Share)
	}
	got = medianRuns([][]benchResult{run(900, 0, 0.2, 0), run(1000, 0, 0.9, 0), run(800, 0, 0.5, 0), run(950, 0, 0.1, 0)}, false)[0]
	if got.PerSecond != 900 || got.Ratios != nil || got.Share != 0.2 {
		t.Errorf("by rate, four rounds: %+v", got)
	}
	one := run(900, 0.5, 0, 4)
	if got := medianRuns([][]benchResult{one}, true); got[0].Rounds != 0 || got[0].Rates != nil || got[0].Errors != 4 {
		t.Errorf("one round: %+v", got[0])
	}
}

// TestBenchRefusesBadFlags: unknown scenarios and a --compare file that is
// not bench output are usage errors.
func TestBenchRefusesBadFlags(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte("{not json"), 0o600)
	// Before --load-client, every run was net/http's (no load_client).
	older := filepath.Join(t.TempDir(), "older.json")
	os.WriteFile(older, []byte(`[{"scenario":"jwks","requests_per_second":1000,"machine":"m"}]`), 0o600)
	for _, args := range [][]string{{"--scenario", "nope"}, {"--compare", bad}, {"--compare", older}, {"--load-client", "curl"}, {"--keys", "0"}, {"--tokens", "0"}, {"--clients", "0"},
		{"--rounds", "0"}, {"--rounds", "21"}} {
		var out, errb bytes.Buffer
		m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}
		if code := m.Run(context.Background(), append([]string{"bench"}, args...)); code != 2 {
			t.Errorf("bench %v: exit %d, want 2 (%s)", args, code, errb.String())
		}
		m.Close()
	}
}

// TestBenchChild: the hello child is a process of its own that serves on
// the listener it was handed, its memory is read apart from the bench's,
// and it exits cleanly when the bench closes its standard input.
func TestBenchChild(t *testing.T) {
	t.Parallel()
	ln, err := listenLoopback()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	c, err := startBenchChild(context.Background(), benchHelloChild, []net.Listener{ln}, nil, nil, &stderr)
	ln.Close()
	if err != nil {
		t.Fatal(err)
	}
	if c.pid() == os.Getpid() {
		t.Fatal("the child is this process")
	}
	resp, err := http.Get("http://" + ln.Addr().String() + "/hello")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "hello" {
		t.Errorf("the hello child answered %q", b)
	}
	rss := newPeakRSS(c.pid())
	rss.start()
	if _, err := os.Stat("/proc/self/status"); err == nil && rss.peak() < 1<<20 {
		t.Errorf("the child's RSS: %d bytes", rss.peak())
	}
	c.stop()
	if c.err != nil || c.alive() == nil {
		t.Errorf("after its standard input closed the child ended with %v (alive: %v); stderr: %s", c.err, c.alive(),
			stderr.String())
	}
}

// TestWarningsOnly: the bench server's info lines (its access log) are
// dropped, its warnings and errors passed on.
func TestWarningsOnly(t *testing.T) {
	var out bytes.Buffer
	w := warningsOnly{&out}
	for _, line := range []string{
		`{"time":"2026-12-05T18:00:00Z","level":"INFO","msg":"request","status":200}` + "\n",
		`{"time":"2026-12-05T18:00:00Z","level":"WARN","msg":"api keys: flushing usage counts"}` + "\n",
		`{"time":"2026-12-05T18:00:00Z","level":"ERROR","msg":"boom"}` + "\n",
	} {
		if n, err := w.Write([]byte(line)); n != len(line) || err != nil {
			t.Fatalf("Write: %d, %v", n, err)
		}
	}
	if got := out.String(); strings.Contains(got, "INFO") || !strings.Contains(got, "WARN") || !strings.Contains(got, "boom") {
		t.Errorf("passed on: %s", got)
	}
}

// TestSetShares: a tour's share is of its one-item scenario's ratio to
// hello when both were measured beside hello, else of its rate; a tour
// whose one-item scenario did not run has none.
func TestSetShares(t *testing.T) {
	withHello := []benchResult{{Scenario: "verify", PerSecond: 30_000, Ratio: 0.60},
		{Scenario: "verify-warm", PerSecond: 24_000, Ratio: 0.66}} // the machine slowed between them
	setShares(withHello)
	if r := withHello[1]; r.ShareOf != "verify" || math.Abs(r.Share-1.1) > 1e-9 {
		t.Errorf("with hello: share %v of %q, want 1.1 of verify", r.Share, r.ShareOf)
	}
	rates := []benchResult{{Scenario: "verify", PerSecond: 30_000}, {Scenario: "verify-many", PerSecond: 15_000},
		{Scenario: "introspect-opaque-many", PerSecond: 9_000}}
	setShares(rates)
	if r := rates[1]; r.ShareOf != "verify" || r.Share != 0.5 {
		t.Errorf("by rate: share %v of %q, want 0.5 of verify", r.Share, r.ShareOf)
	}
	if r := rates[2]; r.ShareOf != "" || r.Share != 0 {
		t.Errorf("a tour without its one-item scenario has a share %v of %q", r.Share, r.ShareOf)
	}
	if rates[0].ShareOf != "" {
		t.Errorf("verify has a share of %q", rates[0].ShareOf)
	}
}
