package main

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/authz"
	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/keys"
)

// gather returns the counter and gauge samples of m's registry by series,
// written as in the text format: name{label="value",…}.
func gather(t *testing.T, m *metrics) map[string]float64 {
	t.Helper()
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		for _, s := range f.GetMetric() {
			var labels []string
			for _, l := range s.GetLabel() {
				labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
			}
			series := f.GetName()
			if len(labels) > 0 {
				series += "{" + strings.Join(labels, ",") + "}"
			}
			out[series] = s.GetCounter().GetValue() + s.GetGauge().GetValue()
		}
	}
	return out
}

// TestObserversDoNotAllocate: an observation on a request path is a map
// lookup and an atomic add, for every label value of the documented sets.
func TestObserversDoNotAllocate(t *testing.T) {
	m := newMetrics()
	ko := apiKeyObserver{m}
	n := testing.AllocsPerRun(20, func() {
		for _, g := range authz.Grants {
			m.TokenIssued(g)
			for _, e := range authz.TokenErrors {
				m.TokenRefused(g, e)
			}
		}
		for _, tt := range authz.TokenTypes {
			for _, r := range authz.IntrospectionResults {
				m.Introspected(tt, r)
			}
		}
		for _, l := range authz.Limiters {
			m.RateLimited(l)
		}
		for _, o := range accounts.LoginOutcomes {
			m.Login(authz.SurfaceLoginPage, o)
		}
		for _, c := range authz.Caches {
			m.CacheLookup(c, true)
			m.CacheLookup(c, false)
		}
		for _, c := range keys.Codes {
			ko.Verified(c)
		}
		ko.Verified("")
		ko.CacheLookup(true)
		m.webhooks.Delivered(WebhookDelivered)
	})
	if n != 0 {
		t.Fatalf("%v allocations per round of observations", n)
	}
	before := gather(t, m)
	if v := before["keyward_metrics_unknown_labels_total"]; v != 0 {
		t.Fatalf("%v observations with an unknown label value", v)
	}
	if v := before[`keyward_tokens_refused_total{error="invalid_grant",grant_type="refresh_token"}`]; v != 21 {
		t.Fatalf("21 rounds (AllocsPerRun warms up once) counted %v times", v)
	}
	m.TokenRefused("password", "invalid_grant") // not a label value authz gives
	after := gather(t, m)
	if v := after["keyward_metrics_unknown_labels_total"]; v != 1 {
		t.Fatalf("an unknown label value was counted %v times, want once", v)
	}
	if len(after) != len(before) {
		t.Fatal("an unknown label value became a series")
	}
}

// TestWebhookHook: Delivered counts outcomes (the outbox's own constants
// too); the outbox gauges are absent until Outbox is called, then ask its
// function at each scrape, and are left out of a scrape it fails.
func TestWebhookHook(t *testing.T) {
	m := newMetrics()
	m.webhooks.Delivered(WebhookDelivered)
	m.webhooks.Delivered(WebhookDelivered)
	m.webhooks.Delivered("disabled")
	got := gather(t, m)
	for outcome, want := range map[string]float64{WebhookDelivered: 2, "disabled": 1, WebhookFailed: 0, WebhookRetrying: 0} {
		if v, ok := got[`keyward_webhook_deliveries_total{outcome="`+outcome+`"}`]; !ok || v != want {
			t.Errorf("deliveries %s: %v (%v), want %v", outcome, v, ok, want)
		}
	}
	if _, ok := gather(t, m)["keyward_webhook_outbox_depth"]; ok {
		t.Fatal("outbox depth before the outbox is wired")
	}
	var fail error
	m.webhooks.Outbox(func(ctx context.Context) (int, time.Duration, error) {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("the outbox is asked without a deadline")
		}
		return 42, 90 * time.Second, fail
	}, slog.New(slog.DiscardHandler))
	got = gather(t, m)
	if d, ok := got["keyward_webhook_outbox_depth"]; !ok || d != 42 {
		t.Fatalf("depth: %v %v", d, ok)
	}
	if a, ok := got["keyward_webhook_outbox_oldest_age_seconds"]; !ok || a != 90 {
		t.Fatalf("oldest: %v %v", a, ok)
	}
	fail = errors.New("database down")
	if _, ok := gather(t, m)["keyward_webhook_outbox_depth"]; ok {
		t.Fatal("outbox depth reported though the outbox could not be read")
	}
}

// BenchmarkObserver is one token issued and one API-key verification
// observed with the Prometheus implementation.
func BenchmarkObserver(b *testing.B) {
	m := newMetrics()
	ko := apiKeyObserver{m}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.TokenIssued(authz.GrantLabelClientCredentials)
			ko.Verified(keys.CodeValid)
		}
	})
}
