package main

import "github.com/prometheus/client_golang/prometheus"

// Back-channel logout outcomes (admin/webhooks.LogoutObserver).
const (
	LogoutDelivered = "delivered" // the client answered 200 or 204
	LogoutRetrying  = "retrying"  // the attempt failed; another is scheduled
	LogoutFailed    = "failed"    // the attempt failed and none is left
	LogoutDropped   = "dropped"   // the client no longer has a backchannel_logout_uri
)

// logoutMetrics counts back-channel logout attempts in
// keyward_backchannel_logouts_total{outcome}; the outbox reports through
// it (webhooks.LogoutConfig.Observer). Safe for concurrent use.
type logoutMetrics struct {
	attempts *prometheus.CounterVec
	known    map[string]prometheus.Counter
}

func newLogoutMetrics(reg prometheus.Registerer) *logoutMetrics {
	l := &logoutMetrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "keyward_backchannel_logouts_total",
			Help: "OpenID Connect back-channel logout token deliveries by outcome (delivered, retrying, failed, dropped)."},
			[]string{"outcome"}),
		known: map[string]prometheus.Counter{},
	}
	for _, o := range []string{LogoutDelivered, LogoutRetrying, LogoutFailed, LogoutDropped} {
		l.known[o] = l.attempts.WithLabelValues(o)
	}
	reg.MustRegister(l.attempts)
	return l
}

// LogoutDelivered counts one attempt by its outcome, a constant of the
// outbox's own.
func (l *logoutMetrics) LogoutDelivered(outcome string) {
	if c, ok := l.known[outcome]; ok {
		c.Inc()
		return
	}
	l.attempts.WithLabelValues(outcome).Inc()
}
