package main

import (
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/keyward/keyward/authz"
	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store/coalesce"
)

// metrics is every metric family of a running server, on one registry
// (README "Metrics" documents each). It is the one place Keyward uses
// Prometheus: the packages report through their own small observer
// interfaces (authz.Observer, keys.Observer, accounts.LoginObserver), which
// metrics implements. Every label value comes from a fixed set, and every
// series is resolved once here, so an observation on a request path is a
// map lookup and an atomic add, without allocation.
type metrics struct {
	reg      *prometheus.Registry
	requests *requestMetrics
	webhooks *webhookMetrics
	logouts  *logoutMetrics

	tokensIssued   map[string]prometheus.Counter    // by grant label
	tokensRefused  map[[2]string]prometheus.Counter // by grant label, error
	introspections map[[2]string]prometheus.Counter // by token type, result
	verifications  map[keys.Code]prometheus.Counter // "" is a store failure
	rateLimited    map[string]prometheus.Counter    // by limiter
	logins         map[[2]string]prometheus.Counter // by surface, outcome
	cacheHits      map[string]prometheus.Counter    // by cache
	cacheMisses    map[string]prometheus.Counter
	// unknownLabel counts observations with a value outside the sets (a
	// bug), rather than dropping them unseen.
	unknownLabel    prometheus.Counter
	apiKeysCacheHit prometheus.Counter
	apiKeysCacheMis prometheus.Counter
	// batchKeys is the size of each batched read of the store's loaders
	// (store/coalesce), by loader.
	batchKeys map[string]prometheus.Observer
	// commitRecords is the size of each group commit of the store's
	// committers (coalesce.Committers).
	commitRecords map[string]prometheus.Observer
}

// Label values metrics adds to the packages' own sets.
const (
	// limiterAPIKey is an API key's own rate limit (RATE_LIMITED).
	limiterAPIKey = "api_key"
	// limiterConsoleLogin is the console's sign-in backoff.
	limiterConsoleLogin = "console_login"
	// surfaceConsole is the admin console's sign-in page.
	surfaceConsole = "console"
	// cacheAPIKeys is the API-key record cache of keys.Service.
	cacheAPIKeys = "api_keys"
	// codeUnavailable labels a verification that failed on the store.
	codeUnavailable = "UNAVAILABLE"
)

// newMetrics registers the families on a new registry: Go and process
// metrics, HTTP requests, the domain counters, build info and the webhook
// families. The collectors that read state at scrape time (signing keys,
// database pool) are added once their sources exist.
func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &metrics{reg: reg, requests: newRequestMetrics(reg), webhooks: newWebhookMetrics(reg), logouts: newLogoutMetrics(reg)}
	newCounters := func(name, help string, labels ...string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
		reg.MustRegister(v)
		return v
	}

	issued := newCounters("keyward_tokens_issued_total", "Tokens issued by the token endpoint, by grant type.", "grant_type")
	refused := newCounters("keyward_tokens_refused_total",
		"Token requests refused (RFC 6749 §5.2 errors, 429 and 503), by grant type and OAuth error code.", "grant_type", "error")
	m.tokensIssued, m.tokensRefused = map[string]prometheus.Counter{}, map[[2]string]prometheus.Counter{}
	for _, g := range authz.Grants {
		m.tokensIssued[g] = issued.WithLabelValues(g)
		for _, e := range authz.TokenErrors {
			m.tokensRefused[[2]string{g, e}] = refused.WithLabelValues(g, e)
		}
	}

	intro := newCounters("keyward_introspections_total", "Token introspections (RFC 7662), by token type and result.", "token_type", "result")
	m.introspections = map[[2]string]prometheus.Counter{}
	for _, t := range authz.TokenTypes {
		for _, r := range authz.IntrospectionResults {
			m.introspections[[2]string{t, r}] = intro.WithLabelValues(t, r)
		}
	}

	verif := newCounters("keyward_apikey_verifications_total",
		"API-key verifications (POST /v1/apikeys/verify and token exchange), by result code; UNAVAILABLE is a store failure.", "code")
	m.verifications = map[keys.Code]prometheus.Counter{"": verif.WithLabelValues(codeUnavailable)}
	for _, c := range keys.Codes {
		m.verifications[c] = verif.WithLabelValues(string(c))
	}

	limited := newCounters("keyward_rate_limit_rejections_total", "Requests refused by a rate limit or backoff, by limiter.", "limiter")
	m.rateLimited = map[string]prometheus.Counter{}
	for _, l := range append(authz.Limiters[:len(authz.Limiters):len(authz.Limiters)], limiterAPIKey, limiterConsoleLogin) {
		m.rateLimited[l] = limited.WithLabelValues(l)
	}

	logins := newCounters("keyward_logins_total", "Password sign-ins, by page and outcome (success, failure, locked_out).", "surface", "outcome")
	m.logins = map[[2]string]prometheus.Counter{}
	for _, s := range []string{authz.SurfaceLoginPage, surfaceConsole} {
		for _, o := range accounts.LoginOutcomes {
			m.logins[[2]string{s, o}] = logins.WithLabelValues(s, o)
		}
	}

	hits := newCounters("keyward_cache_hits_total", "Lookups answered from an in-process cache, by cache.", "cache")
	misses := newCounters("keyward_cache_misses_total", "Lookups an in-process cache passed to the database, by cache.", "cache")
	m.cacheHits, m.cacheMisses = map[string]prometheus.Counter{}, map[string]prometheus.Counter{}
	for _, c := range append(authz.Caches[:len(authz.Caches):len(authz.Caches)], cacheAPIKeys) {
		m.cacheHits[c], m.cacheMisses[c] = hits.WithLabelValues(c), misses.WithLabelValues(c)
	}
	m.apiKeysCacheHit, m.apiKeysCacheMis = m.cacheHits[cacheAPIKeys], m.cacheMisses[cacheAPIKeys]

	batches := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "keyward_store_batch_keys",
		Help:    "Records read by each batched read of concurrent cache misses (one query), by loader.",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256}}, []string{"loader"})
	reg.MustRegister(batches)
	m.batchKeys = map[string]prometheus.Observer{}
	for _, l := range coalesce.Loaders {
		m.batchKeys[l] = batches.WithLabelValues(l)
	}

	commits := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "keyward_store_commit_records",
		Help:    "Records written by each group commit of concurrent writes (one transaction), by committer.",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128}}, []string{"committer"})
	reg.MustRegister(commits)
	m.commitRecords = map[string]prometheus.Observer{}
	for _, c := range coalesce.Committers {
		m.commitRecords[c] = commits.WithLabelValues(c)
	}

	m.unknownLabel = prometheus.NewCounter(prometheus.CounterOpts{Name: "keyward_metrics_unknown_labels_total",
		Help: "Observations whose label value was outside its documented set: a bug, so always 0."})
	reg.MustRegister(m.unknownLabel)

	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "keyward_build_info",
		Help: "Always 1; the labels name the running build."}, []string{"version", "commit", "go_version"})
	build.WithLabelValues(Version, buildCommit(), runtime.Version()).Set(1)
	reg.MustRegister(build)
	return m
}

// Commit is set at build time with -ldflags "-X main.Commit=…"; when it is
// empty, keyward_build_info takes the VCS revision Go stamped into the
// binary, if any.
var Commit = ""

// buildCommit is the VCS revision the binary was built from, or "unknown".
func buildCommit() string {
	if Commit != "" {
		return Commit
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	commit, dirty := "unknown", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && commit != "unknown" {
		commit += "-dirty"
	}
	return commit
}

// inc adds one to the series of key, or to keyward_metrics_unknown_labels_total.
func inc[K comparable](m *metrics, series map[K]prometheus.Counter, key K) {
	if c, ok := series[key]; ok {
		c.Inc()
		return
	}
	m.unknownLabel.Inc()
}

var (
	_ authz.Observer         = (*metrics)(nil)
	_ keys.Observer          = apiKeyObserver{}
	_ accounts.LoginObserver = (*metrics)(nil)
	_ coalesce.BatchObserver = (*metrics)(nil)
	_ coalesce.BatchObserver = apiKeyObserver{}
)

func (m *metrics) TokenIssued(grant string) { inc(m, m.tokensIssued, grant) }
func (m *metrics) TokenRefused(grant, code string) {
	inc(m, m.tokensRefused, [2]string{grant, code})
}
func (m *metrics) Introspected(tokenType, result string) {
	inc(m, m.introspections, [2]string{tokenType, result})
}
func (m *metrics) RateLimited(limiter string) { inc(m, m.rateLimited, limiter) }
func (m *metrics) Login(surface, outcome string) {
	inc(m, m.logins, [2]string{surface, outcome})
}
func (m *metrics) CacheLookup(cache string, hit bool) {
	if hit {
		inc(m, m.cacheHits, cache)
	} else {
		inc(m, m.cacheMisses, cache)
	}
}

// LoaderBatch implements coalesce.BatchObserver.
func (m *metrics) LoaderBatch(loader string, keys int) {
	if o, ok := m.batchKeys[loader]; ok {
		o.Observe(float64(keys))
		return
	}
	m.unknownLabel.Inc()
}

// GroupCommit implements coalesce.CommitObserver.
func (m *metrics) GroupCommit(committer string, items int) {
	if o, ok := m.commitRecords[committer]; ok {
		o.Observe(float64(items))
		return
	}
	m.unknownLabel.Inc()
}

// LoaderBatch implements coalesce.BatchObserver.
func (o apiKeyObserver) LoaderBatch(loader string, keys int) { o.m.LoaderBatch(loader, keys) }

// apiKeyObserver is metrics as keys.Observer (whose CacheLookup has no
// cache name).
type apiKeyObserver struct{ m *metrics }

func (o apiKeyObserver) Verified(code keys.Code) {
	inc(o.m, o.m.verifications, code)
	if code == keys.CodeRateLimited {
		o.m.rateLimited[limiterAPIKey].Inc()
	}
}

func (o apiKeyObserver) CacheLookup(hit bool) {
	if hit {
		o.m.apiKeysCacheHit.Inc()
	} else {
		o.m.apiKeysCacheMis.Inc()
	}
}

// consoleLogins is metrics as the console's accounts.LoginObserver: its
// lockouts count as console_login rate-limit rejections too.
type consoleLogins struct{ m *metrics }

func (o consoleLogins) Login(surface, outcome string) {
	o.m.Login(surface, outcome)
	if outcome == accounts.LoginLockedOut {
		o.m.RateLimited(limiterConsoleLogin)
	}
}
