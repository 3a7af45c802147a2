package main

import (
	"context"
	"database/sql"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store/postgres"
	"github.com/keyward/keyward/store/sqlite"
)

// This file holds the collectors that read state at scrape time: signing
// keys, the database pool and the webhook outbox.

// scrapeTimeout bounds what a collector may spend asking for its state.
const scrapeTimeout = 2 * time.Second

// signingCollector reports the signing keys from the service's in-memory
// snapshot (no database call per scrape).
type signingCollector struct {
	sig *signing.Service
	now func() time.Time

	keys, activeAge, nextRotation *prometheus.Desc
}

func newSigningCollector(sig *signing.Service, now func() time.Time) *signingCollector {
	return &signingCollector{sig: sig, now: now,
		keys: prometheus.NewDesc("keyward_signing_keys",
			"Signing keys by algorithm and state (next, active, retiring, retired).", []string{"alg", "state"}, nil),
		activeAge: prometheus.NewDesc("keyward_signing_keys_active_age_seconds",
			"Time since the active key of each algorithm started signing.", []string{"alg"}, nil),
		nextRotation: prometheus.NewDesc("keyward_signing_keys_next_rotation_timestamp_seconds",
			"When the scheduled rotation of each algorithm's active key falls due (Unix time); absent when none is scheduled.",
			[]string{"alg"}, nil),
	}
}

func (c *signingCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.keys
	ch <- c.activeAge
	ch <- c.nextRotation
}

func (c *signingCollector) Collect(ch chan<- prometheus.Metric) {
	states := []signing.State{signing.StateNext, signing.StateActive, signing.StateRetiring, signing.StateRetired}
	algs := c.sig.Algorithms()
	counts := map[string]map[signing.State]int{}
	for _, a := range algs {
		counts[a] = map[signing.State]int{}
	}
	now := c.now()
	for _, r := range c.sig.Loaded() {
		if counts[r.Alg] == nil {
			algs = append(algs, r.Alg) // an algorithm no longer configured
			counts[r.Alg] = map[signing.State]int{}
		}
		counts[r.Alg][r.State]++
		if r.State == signing.StateActive {
			ch <- prometheus.MustNewConstMetric(c.activeAge, prometheus.GaugeValue, now.Sub(r.ActivatedAt).Seconds(), r.Alg)
		}
	}
	for _, a := range algs {
		for _, s := range states {
			ch <- prometheus.MustNewConstMetric(c.keys, prometheus.GaugeValue, float64(counts[a][s]), a, string(s))
		}
		if at, ok := c.sig.NextRotation(a); ok {
			ch <- prometheus.MustNewConstMetric(c.nextRotation, prometheus.GaugeValue, float64(at.UnixMilli())/1000, a)
		}
	}
}

// poolStats is what both engines tell of their connection pool; the
// fields marked pgx only are zero, and not reported, on SQLite.
type poolStats struct {
	pgx                                   bool
	max, inUse, idle, constructing        int64 // constructing: pgx only
	waits                                 int64 // acquisitions that had to wait
	waited                                time.Duration
	closedIdle, closedIdleTime, closedAge int64 // closedIdle: database/sql only
	acquires, canceled, opened            int64 // pgx only
	acquiring                             time.Duration
}

func pgxStats(p *pgxpool.Pool) poolStats {
	s := p.Stat()
	return poolStats{pgx: true, max: int64(s.MaxConns()), inUse: int64(s.AcquiredConns()), idle: int64(s.IdleConns()),
		constructing: int64(s.ConstructingConns()), waits: s.EmptyAcquireCount(), waited: s.EmptyAcquireWaitTime(),
		closedIdleTime: s.MaxIdleDestroyCount(), closedAge: s.MaxLifetimeDestroyCount(),
		acquires: s.AcquireCount(), canceled: s.CanceledAcquireCount(), opened: s.NewConnsCount(), acquiring: s.AcquireDuration()}
}

func sqlStats(db *sql.DB) poolStats {
	s := db.Stats()
	return poolStats{max: int64(s.MaxOpenConnections), inUse: int64(s.InUse), idle: int64(s.Idle),
		waits: s.WaitCount, waited: s.WaitDuration,
		closedIdle: s.MaxIdleClosed, closedIdleTime: s.MaxIdleTimeClosed, closedAge: s.MaxLifetimeClosed}
}

// dbCollector reports the database pool (pgxpool.Stat on PostgreSQL,
// sql.DBStats on SQLite) under keyward_db_.
type dbCollector struct {
	stats func() poolStats

	max, conns, waits, waited, closed, acquires, acquiring, canceled, opened *prometheus.Desc
}

func newDBCollector(stats func() poolStats) *dbCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("keyward_db_"+name, help, labels, nil)
	}
	return &dbCollector{stats: stats,
		max:   d("max_connections", "The most connections the pool opens."),
		conns: d("connections", "Open connections by state: in_use, idle, and (PostgreSQL) constructing.", "state"),
		waits: d("waits_total", "Connection requests that found no idle connection and had to wait."),
		waited: d("wait_seconds_total",
			"Total time connection requests spent waiting for a connection."),
		closed: d("closed_connections_total",
			"Connections closed by the pool's limits, by reason: max_idle (SQLite), max_idle_time, max_lifetime.", "reason"),
		acquires:  d("acquires_total", "Connections acquired from the pool (PostgreSQL)."),
		acquiring: d("acquire_seconds_total", "Total time spent acquiring connections, waits included (PostgreSQL)."),
		canceled:  d("canceled_acquires_total", "Connection requests canceled before they got one (PostgreSQL)."),
		opened:    d("new_connections_total", "Connections the pool opened (PostgreSQL)."),
	}
}

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.max, c.conns, c.waits, c.waited, c.closed, c.acquires, c.acquiring, c.canceled, c.opened} {
		ch <- d
	}
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge(c.max, float64(s.max))
	gauge(c.conns, float64(s.inUse), "in_use")
	gauge(c.conns, float64(s.idle), "idle")
	counter(c.waits, float64(s.waits))
	counter(c.waited, s.waited.Seconds())
	counter(c.closed, float64(s.closedIdleTime), "max_idle_time")
	counter(c.closed, float64(s.closedAge), "max_lifetime")
	if !s.pgx {
		counter(c.closed, float64(s.closedIdle), "max_idle")
		return
	}
	gauge(c.conns, float64(s.constructing), "constructing")
	counter(c.acquires, float64(s.acquires))
	counter(c.acquiring, s.acquiring.Seconds())
	counter(c.canceled, float64(s.canceled))
	counter(c.opened, float64(s.opened))
}

// Webhook delivery outcomes the families are resolved for up front.
const (
	WebhookDelivered = "delivered" // the receiver answered 2xx
	WebhookRetrying  = "retrying"  // the attempt failed; another is scheduled
	WebhookFailed    = "failed"    // the attempt failed and none is left: given up
)

// webhookMetrics holds the webhook delivery families. It is the hook
// admin/webhooks reports through (cmd/keyward passes it in the outbox's
// config; it satisfies an interface { Delivered(outcome string) }):
//
//   - Delivered(outcome) counts one delivery attempt in
//     keyward_webhook_deliveries_total{outcome}: WebhookDelivered,
//     WebhookRetrying, WebhookFailed, or another constant outcome the outbox
//     defines (e.g. "disabled"). It must never be a value taken from a
//     receiver's answer, a URL or an event.
//   - Outbox(f) makes each scrape call f, with a deadline of
//     scrapeTimeout, for the number of deliveries in the outbox not yet
//     done and the age of the oldest of them:
//     keyward_webhook_outbox_depth and
//     keyward_webhook_outbox_oldest_age_seconds (0 when it is empty).
//     Until Outbox is called, or when f fails (logged), both are absent.
//
// Both are safe for concurrent use.
type webhookMetrics struct {
	deliveries *prometheus.CounterVec
	known      map[string]prometheus.Counter
	outbox     atomic.Pointer[func(context.Context) (int, time.Duration, error)]
	log        atomic.Pointer[slog.Logger]

	depth, oldest *prometheus.Desc
}

func newWebhookMetrics(reg prometheus.Registerer) *webhookMetrics {
	w := &webhookMetrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "keyward_webhook_deliveries_total",
			Help: "Webhook delivery attempts by outcome (delivered, retrying, failed, …)."}, []string{"outcome"}),
		known: map[string]prometheus.Counter{},
		depth: prometheus.NewDesc("keyward_webhook_outbox_depth",
			"Webhook deliveries in the outbox not yet done (pending or being retried).", nil, nil),
		oldest: prometheus.NewDesc("keyward_webhook_outbox_oldest_age_seconds",
			"Age of the oldest webhook delivery not yet done; 0 when the outbox is empty.", nil, nil),
	}
	for _, o := range []string{WebhookDelivered, WebhookRetrying, WebhookFailed} {
		w.known[o] = w.deliveries.WithLabelValues(o)
	}
	reg.MustRegister(w.deliveries, w)
	return w
}

// Delivered counts one delivery attempt by its outcome (see webhookMetrics).
func (w *webhookMetrics) Delivered(outcome string) {
	if c, ok := w.known[outcome]; ok {
		c.Inc()
		return
	}
	w.deliveries.WithLabelValues(outcome).Inc() // a constant of the outbox's own: bounded
}

// Outbox sets the function each scrape asks for the outbox's depth and
// the age of its oldest delivery (see webhookMetrics); log receives its
// failures.
func (w *webhookMetrics) Outbox(f func(ctx context.Context) (depth int, oldest time.Duration, err error), log *slog.Logger) {
	w.log.Store(log)
	w.outbox.Store(&f)
}

func (w *webhookMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- w.depth
	ch <- w.oldest
}

func (w *webhookMetrics) Collect(ch chan<- prometheus.Metric) {
	f := w.outbox.Load()
	if f == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	depth, oldest, err := (*f)(ctx)
	if err != nil {
		if log := w.log.Load(); log != nil {
			log.Warn("metrics: webhook outbox", "err", err)
		}
		return
	}
	ch <- prometheus.MustNewConstMetric(w.depth, prometheus.GaugeValue, float64(depth))
	ch <- prometheus.MustNewConstMetric(w.oldest, prometheus.GaugeValue, oldest.Seconds())
}

// watch adds the collectors that read state at scrape time: the signing
// keys of sig and the connection pool of db.
func (m *metrics) watch(db database, sig *signing.Service) {
	m.reg.MustRegister(newSigningCollector(sig, time.Now))
	switch d := db.(type) {
	case *postgres.DB:
		m.reg.MustRegister(newDBCollector(func() poolStats { return pgxStats(d.Pool()) }))
	case *sqlite.DB:
		m.reg.MustRegister(newDBCollector(func() poolStats { return sqlStats(d.SQL()) }))
	}
}
