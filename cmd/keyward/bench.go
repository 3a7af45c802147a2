package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
)

const benchUsage = `usage: keyward bench [--duration 10s] [--connections 32] [--scenario all|token|introspect|verify]

Starts a throw-away server on loopback (SQLite in a temporary directory),
then drives it with the given number of concurrent connections and prints
requests per second and latency percentiles for each scenario.`

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
}

// bench is "keyward bench": a loopback load test of the hot paths.
func (m *Main) bench(ctx context.Context, args []string) error {
	fs := m.flags("bench")
	duration := fs.Duration("duration", 10*time.Second, "how long each scenario runs")
	conns := fs.Int("connections", 32, "concurrent connections")
	scenario := fs.String("scenario", "all", "all, token, introspect or verify")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if *conns < 1 || *conns > 1024 || *duration <= 0 || *duration > 10*time.Minute {
		return usagef("--connections 1..1024 and --duration up to 10m\n%s", benchUsage)
	}
	scenarios := []string{"token", "introspect", "verify"}
	if *scenario != "all" {
		if !slices.Contains(scenarios, *scenario) {
			return usagef("unknown --scenario %q\n%s", *scenario, benchUsage)
		}
		scenarios = []string{*scenario}
	}
	dir, err := os.MkdirTemp("", "keyward-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// Set up a client and an API key, then serve.
	setup := &Main{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard}
	setup.Config.DataDir, setup.Config.Format, setup.Config.JWKSMaxAge = dir, "json", signing.DefaultJWKSMaxAge
	db, secret, err := setup.openMigrated(ctx)
	if err != nil {
		return err
	}
	reg, err := newClients(db, secret, newAuditor(db), nil)
	if err != nil {
		return err
	}
	client, clientSecret, err := reg.Create(ctx, clients.Params{Name: "bench", Scopes: []string{"read"}})
	if err != nil {
		return err
	}
	ak, err := keys.New(keys.Config{Store: db, Secret: secret})
	if err != nil {
		return err
	}
	_, apiKey, err := ak.Create(ctx, keys.CreateParams{Name: "bench", Scopes: []string{"read"}})
	ak.Close()
	setup.Close()
	if err != nil {
		return err
	}
	pub, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	adm, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	started := make(chan *Server, 1)
	srv := &Main{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Started: started,
		PublicListener: pub, AdminListener: adm}
	sctx, stop := context.WithCancel(ctx)
	done := make(chan int, 1)
	go func() {
		done <- srv.Run(sctx, []string{"serve", "--data-dir", dir, "--issuer", "http://" + pub.Addr().String(),
			"--token-rate-limit", "-1", "--log-format", "json"})
		srv.Close()
	}()
	var s *Server
	select {
	case s = <-started:
	case code := <-done:
		stop()
		return fmt.Errorf("bench server exited with %d", code)
	}
	defer func() { stop(); <-done }()

	httpc := &http.Client{Transport: &http.Transport{MaxIdleConns: *conns, MaxIdleConnsPerHost: *conns}, Timeout: 10 * time.Second}
	tokenForm := url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}.Encode()
	post := func(path, ctype, body string) func() error {
		return func() error {
			req, _ := http.NewRequest(http.MethodPost, s.PublicURL+path, strings.NewReader(body))
			req.Header.Set("Content-Type", ctype)
			req.SetBasicAuth(client.ID, clientSecret)
			resp, err := httpc.Do(req)
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			return nil
		}
	}
	form := "application/x-www-form-urlencoded"
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	{
		req, _ := http.NewRequest(http.MethodPost, s.PublicURL+"/oauth2/token", strings.NewReader(tokenForm))
		req.Header.Set("Content-Type", form)
		req.SetBasicAuth(client.ID, clientSecret)
		resp, err := httpc.Do(req)
		if err != nil {
			return err
		}
		json.NewDecoder(resp.Body).Decode(&tok)
		resp.Body.Close()
	}
	runs := map[string]func() error{
		"token":      post("/oauth2/token", form, tokenForm),
		"introspect": post("/oauth2/introspect", form, url.Values{"token": {tok.AccessToken}}.Encode()),
		"verify":     post("/v1/apikeys/verify", "application/json", `{"key":"`+apiKey+`","required_scope":"read"}`),
	}
	var results []benchResult
	for _, name := range scenarios {
		r := load(ctx, name, runs[name], *conns, *duration)
		results = append(results, r)
	}
	rows := make([][]string, 0, len(results))
	for _, r := range results {
		rows = append(rows, []string{r.Scenario, fmt.Sprintf("%.0f", r.PerSecond), r.P50.Round(time.Microsecond).String(),
			r.P99.Round(time.Microsecond).String(), fmt.Sprint(r.Errors)})
	}
	return m.emit(results, []string{"SCENARIO", "REQ/S", "P50", "P99", "ERRORS"}, rows)
}

// load runs fn from conns goroutines for d and measures it.
func load(ctx context.Context, name string, fn func() error, conns int, d time.Duration) benchResult {
	var (
		n, errs atomic.Int64
		mu      sync.Mutex
		lat     []time.Duration
		wg      sync.WaitGroup
	)
	deadline := time.Now().Add(d)
	start := time.Now()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 4096)
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				if err := fn(); err != nil {
					errs.Add(1)
				}
				local = append(local, time.Since(t0))
				n.Add(1)
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(float64(len(lat))*p))]
	}
	return benchResult{Scenario: name, Requests: n.Load(), Errors: errs.Load(), Seconds: secs,
		PerSecond: float64(n.Load()) / secs, P50: pct(0.5), P99: pct(0.99), Connections: conns}
}
