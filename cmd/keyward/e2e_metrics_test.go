package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrape is the text exposition of /metrics, parsed into its samples by
// series ("name{label="value",…}" as exposed, labels sorted by name).
type scrape struct {
	raw     string
	samples map[string]float64
}

func scrapeMetrics(t *testing.T, s *server) scrape {
	t.Helper()
	code, body := get(t, s.AdminURL+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %.300s", code, body)
	}
	sc := scrape{raw: body, samples: map[string]float64{}}
	in := bufio.NewScanner(strings.NewReader(body))
	in.Buffer(make([]byte, 1<<20), 1<<20)
	for in.Scan() {
		line := in.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			t.Fatalf("/metrics: unreadable line %q", line)
		}
		sc.samples[line[:i]] = v
	}
	return sc
}

// value returns the sample of series, failing the test when there is none.
func (sc scrape) value(t *testing.T, series string) float64 {
	t.Helper()
	v, ok := sc.samples[series]
	if !ok {
		t.Errorf("/metrics has no %s", series)
	}
	return v
}

// families returns the names of the families with a sample whose name
// starts with prefix.
func (sc scrape) families(prefix string) []string {
	var out []string
	for k := range sc.samples {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out
}

// readmeAlerts returns the README's example alerts: the YAML block of
// its "Metrics and logs" section.
func readmeAlerts(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## Metrics and logs\n")
	if ok {
		_, sec, ok = strings.Cut(sec, "```yaml\n")
	}
	yaml, _, closed := strings.Cut(sec, "```")
	if !ok || !closed {
		t.Fatal(`README.md: no "## Metrics and logs" section with a yaml block of alerts`)
	}
	return yaml
}

// bearerCall calls the admin API with a bearer token and decodes the
// answer into out (when not nil), failing unless the status is want.
func bearerCall(t *testing.T, s *server, token, method, path string, body any, want int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(t.Context(), method, s.AdminURL+"/admin/v1"+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	r := do(t, req)
	if r.status != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, r.status, want, r.raw)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(r.raw), out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// TestE2EMetrics runs a mixed workload against a real server (tokens
// issued and refused, introspection, API-key verification good and bad, a
// failed and a successful sign-in, the signing keys listed through the
// admin API), then scrapes /metrics: every family of CONTRACT.md is
// there with the counts the workload makes, labels hold no client-chosen
// value, and promtool (Debian's prometheus package) accepts the scrape.
func TestE2EMetrics(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		alice := e.newUser("alice", "correct horse battery", "alice@example.com", "Alice")
		svc := e.newClient("--name", "svc", "--grant-type", "client_credentials", "--scope", "read")
		ops := e.newClient("--name", "ops", "--grant-type", "client_credentials", "--scope", "keyward:admin")
		var key struct{ Key string }
		e.runJSON(&key, "", "apikeys", "create", "--name", "k", "--scope", "read")
		s := e.serve()
		m := discover(t, s)
		started := time.Now()

		cc := url.Values{"grant_type": {"client_credentials"}}
		tok := postForm(t, m.TokenEndpoint, cc, svc.ClientID, svc.ClientSecret)
		if tok.status != 200 {
			t.Fatalf("token: %d %s", tok.status, tok.raw)
		}
		if r := postForm(t, m.TokenEndpoint, cc, svc.ClientID, "wrong"); r.status != 401 {
			t.Fatalf("wrong secret: %d %s", r.status, r.raw)
		}
		if r := postForm(t, m.TokenEndpoint, url.Values{"grant_type": {"made-up-grant-" + randString(t, 8)}}, svc.ClientID, svc.ClientSecret); r.status != 400 {
			t.Fatalf("unknown grant: %d %s", r.status, r.raw)
		}
		wantActive(t, "access token", introspect(t, m, svc, tok.str("access_token")))
		wantInactive(t, "garbage", introspect(t, m, svc, "garbage-"+randString(t, 8)))
		wantActive(t, "API key", introspect(t, m, svc, key.Key))
		if r := postJSON(t, s.PublicURL+"/v1/apikeys/verify", `{"key":"`+key.Key+`"}`, svc); r.json["code"] != "VALID" {
			t.Fatalf("verify: %d %s", r.status, r.raw)
		}
		if r := postJSON(t, s.PublicURL+"/v1/apikeys/verify", `{"key":"`+key.Key+`x"}`, svc); r.json["code"] != "NOT_FOUND" {
			t.Fatalf("verify a mistyped key: %d %s", r.status, r.raw)
		}

		b := newBrowser(t, s)
		wrong := alice
		wrong.Password = "wrong password"
		if p := b.login(b.get(s.PublicURL+"/login"), wrong); p.status != 401 {
			t.Fatalf("wrong password: %d", p.status)
		}
		if p := b.login(b.get(s.PublicURL+"/login"), alice); p.status != 200 {
			t.Fatalf("sign-in: %d", p.status)
		}

		admin := postForm(t, m.TokenEndpoint, cc, ops.ClientID, ops.ClientSecret).str("access_token")
		bearerCall(t, s, admin, "GET", "/signing-keys", nil, 200, nil)
		bearerCall(t, s, admin, "GET", "/clients/"+svc.ClientID, nil, 200, nil)

		sc := scrapeMetrics(t, s)
		for series, want := range map[string]float64{
			`keyward_tokens_issued_total{grant_type="client_credentials"}`:                            2,
			`keyward_tokens_refused_total{error="invalid_client",grant_type="client_credentials"}`:    1,
			`keyward_tokens_refused_total{error="unsupported_grant_type",grant_type="other"}`:         1,
			`keyward_tokens_refused_total{error="invalid_grant",grant_type="refresh_token"}`:          0,
			`keyward_introspections_total{result="active",token_type="access_token"}`:                 1,
			`keyward_introspections_total{result="inactive",token_type="unknown"}`:                    1,
			`keyward_introspections_total{result="active",token_type="api_key"}`:                      1,
			`keyward_apikey_verifications_total{code="VALID"}`:                                        1,
			`keyward_apikey_verifications_total{code="NOT_FOUND"}`:                                    1,
			`keyward_apikey_verifications_total{code="UNAVAILABLE"}`:                                  0,
			`keyward_logins_total{outcome="failure",surface="login_page"}`:                            1,
			`keyward_logins_total{outcome="success",surface="login_page"}`:                            1,
			`keyward_logins_total{outcome="locked_out",surface="login_page"}`:                         0,
			`keyward_rate_limit_rejections_total{limiter="token_endpoint"}`:                           0,
			`keyward_signing_keys{alg="ES256",state="active"}`:                                        1,
			`keyward_signing_keys{alg="ES256",state="next"}`:                                          1,
			`keyward_signing_keys{alg="RS256",state="retired"}`:                                       0,
			`keyward_webhook_deliveries_total{outcome="delivered"}`:                                   0,
			`keyward_metrics_unknown_labels_total`:                                                    0,
			`keyward_http_requests_total{code="200",listener="admin",route="/admin/v1/signing-keys"}`: 1,
			`keyward_http_requests_total{code="200",listener="admin",route="/admin/v1/clients/:id"}`:  1,
		} {
			if got := sc.value(t, series); got != want {
				t.Errorf("%s = %v, want %v", series, got, want)
			}
		}
		// Lookups of clients: the first of each client read the database.
		if h, m := sc.value(t, `keyward_cache_hits_total{cache="clients"}`), sc.value(t, `keyward_cache_misses_total{cache="clients"}`); h < 1 || m < 1 {
			t.Errorf("client cache: %v hits, %v misses", h, m)
		}
		if h := sc.value(t, `keyward_cache_hits_total{cache="api_keys"}`); h < 1 {
			t.Errorf("API-key cache: %v hits", h)
		}
		age := sc.value(t, `keyward_signing_keys_active_age_seconds{alg="ES256"}`)
		if limit := time.Since(started) + time.Minute; age < 0 || age > limit.Seconds() {
			t.Errorf("active ES256 key is %vs old; the server started %s ago", age, time.Since(started))
		}
		next := time.UnixMilli(int64(sc.value(t, `keyward_signing_keys_next_rotation_timestamp_seconds{alg="ES256"}`) * 1000))
		if d := time.Until(next); d < 29*24*time.Hour || d > 31*24*time.Hour {
			t.Errorf("next rotation in %s; want the default 30 days", d)
		}
		if sc.value(t, "keyward_db_max_connections") < 1 {
			t.Error("keyward_db_max_connections < 1")
		}
		sc.value(t, `keyward_db_connections{state="idle"}`)
		sc.value(t, `keyward_db_connections{state="in_use"}`)
		if e.dbURL != "" && sc.value(t, "keyward_db_acquires_total") < 1 {
			t.Error("PostgreSQL: no connection acquired")
		}
		build := sc.families(`keyward_build_info{`)
		if len(build) != 1 || !strings.Contains(build[0], `version="`+Version+`"`) || !strings.Contains(build[0], `go_version="go`) {
			t.Errorf("keyward_build_info: %v", build)
		}
		for _, prefix := range []string{"keyward_tokens_", "keyward_introspections_", "keyward_apikey_verifications_",
			"keyward_logins_", "keyward_signing_keys", "keyward_webhook_deliveries_", "keyward_db_", "keyward_build_info",
			"keyward_rate_limit_rejections_", "keyward_cache_hits_", "keyward_cache_misses_"} {
			if len(sc.families(prefix)) == 0 {
				t.Errorf("no family starts with %s", prefix)
			}
		}
		// No label holds what a client chose: ids, tokens, keys, raw paths.
		for _, secret := range []string{svc.ClientID, ops.ClientID, tok.str("access_token")[:20], key.Key[:12], "made-up-grant", "garbage-"} {
			if strings.Contains(sc.raw, secret) {
				t.Errorf("/metrics holds %q", secret)
			}
		}

		// The README documents every family with an example alert.
		alerts := readmeAlerts(t)
		for _, line := range strings.Split(sc.raw, "\n") {
			if f, ok := strings.CutPrefix(line, "# HELP keyward_"); ok {
				name := "keyward_" + strings.Fields(f)[0]
				if !strings.Contains(alerts, name) {
					t.Errorf("README: no example alert uses %s", name)
				}
			}
		}

		promtool, err := exec.LookPath("promtool")
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal("promtool is not installed (CI=true): apt-get install -y prometheus")
			}
			t.Skip("promtool is not installed, so the scrape was not checked with it: apt-get install -y prometheus (.ci/deps.sh does as root)")
		}
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(sc.raw)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
		rules := filepath.Join(t.TempDir(), "rules.yml")
		if err := os.WriteFile(rules, []byte(alerts), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(promtool, "check", "rules", rules).CombinedOutput(); err != nil {
			t.Errorf("promtool check rules (the README's example alerts): %v\n%s", err, out)
		}
	})
}
