package main

import (
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/keyward/keyward/admin"
	"github.com/keyward/keyward/authz"
)

// requestMetrics counts and times HTTP requests per listener and route.
type requestMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newRequestMetrics(reg prometheus.Registerer) *requestMetrics {
	m := &requestMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keyward_http_requests_total", Help: "HTTP requests by listener, route and status code.",
		}, []string{"listener", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "keyward_http_request_duration_seconds", Help: "HTTP request latency by listener and route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"listener", "route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// accessLog writes one log line per request with a request id, and
// records metrics. It logs the path without the query string, which may
// hold codes or tokens, and never a header value; on the public listener
// also the client id the request names and the OAuth error code of an
// error answer. Durations are in milliseconds (duration_ms). Admin API
// requests are labelled with the API's route template (admin.WithRoute),
// never the raw path. proxies says whether the engine trusts any proxy
// (--trusted-proxies), which decides how the client's address is found.
func accessLog(log requestLogger, listener string, metrics *requestMetrics, proxies bool) gin.HandlerFunc {
	routes := &routeMetrics{m: metrics, listener: listener}
	public, adminAPI := listener == "public", listener == "admin"
	return func(c *gin.Context) {
		var apiRoute *string
		if adminAPI && strings.HasPrefix(c.Request.URL.Path, "/admin/v1") {
			apiRoute = new(string)
			c.Request = c.Request.WithContext(admin.WithRoute(c.Request.Context(), apiRoute))
		}
		start := time.Now()
		id, idValue := c.Request.Header["X-Request-Id"], []string(nil)
		if len(id) > 0 && validRequestID(id[0]) {
			idValue = id[:1:1]
		} else {
			idValue = newRequestID()
		}
		c.Writer.Header()["X-Request-Id"] = idValue
		c.Next()
		end := time.Now()
		status := c.Writer.Status()
		elapsed := end.Sub(start)
		route := c.FullPath()
		if apiRoute != nil && strings.HasPrefix(route, "/admin/v1") {
			route = *apiRoute
		}
		if route == "" {
			route = "unmatched"
		}
		routes.observe(route, status, elapsed)
		l := requestLine{time: end, level: slog.LevelInfo, id: idValue[0], listener: listener,
			method: c.Request.Method, path: c.Request.URL.Path, status: status, bytes: c.Writer.Size(),
			durationMS: float64(elapsed.Microseconds()) / 1000}
		if status >= 500 {
			l.level = slog.LevelError
		}
		ctx := c.Request.Context()
		if !log.log.Enabled(ctx, l.level) {
			return
		}
		l.remote = clientAddr(c, proxies)
		if public {
			l.clientID = requestClientID(c.Request)
			l.oauthError = oauthErrorCode(c, status)
		}
		if len(c.Errors) > 0 {
			l.err, l.hasErr = c.Errors.Last().Error(), true
		}
		log.write(ctx, &l)
	}
}

// newRequestID is a header value of 16 hex digits from the runtime's
// per-thread generator (ChaCha8): unique enough to find a request in the
// logs, with no lock and one allocation that holds both the digits and
// the slice.
func newRequestID() []string {
	const digits = "0123456789abcdef"
	p := new(struct {
		v [1]string
		b [16]byte
	})
	v := mrand.Uint64()
	for i := range p.b {
		p.b[i] = digits[v&0xf]
		v >>= 4
	}
	// The bytes are never written again.
	p.v[0] = unsafe.String(&p.b[0], len(p.b))
	return p.v[:]
}

// routeMetrics resolves the request counter and latency histogram of each
// (route, status) once and keeps them in a copy-on-write map, so a request
// pays a map lookup instead of the label hashing of WithLabelValues. The
// routes are gin's templates, the admin API's and "unmatched": a set that
// stops growing once each route has been seen.
type routeMetrics struct {
	m        *requestMetrics
	listener string
	mu       sync.Mutex // one writer at a time
	routes   atomic.Pointer[map[string]*routeSeries]
}

type routeSeries struct {
	duration prometheus.Observer
	codes    [600]atomic.Pointer[prometheus.Counter] // by status code
}

func (r *routeMetrics) observe(route string, status int, elapsed time.Duration) {
	s := r.series(route)
	s.duration.Observe(elapsed.Seconds())
	if status < 0 || status >= len(s.codes) {
		r.m.requests.WithLabelValues(r.listener, route, strconv.Itoa(status)).Inc()
		return
	}
	ctr := s.codes[status].Load()
	if ctr == nil {
		c := r.m.requests.WithLabelValues(r.listener, route, strconv.Itoa(status))
		s.codes[status].Store(&c)
		ctr = &c
	}
	(*ctr).Inc()
}

func (r *routeMetrics) series(route string) *routeSeries {
	if m := r.routes.Load(); m != nil {
		if s, ok := (*m)[route]; ok {
			return s
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.routes.Load()
	if old != nil {
		if s, ok := (*old)[route]; ok {
			return s
		}
	}
	next := make(map[string]*routeSeries, 1)
	if old != nil {
		next = make(map[string]*routeSeries, len(*old)+1)
		for k, v := range *old {
			next[k] = v
		}
	}
	s := &routeSeries{duration: r.m.duration.WithLabelValues(r.listener, route)}
	next[route] = s
	r.routes.Store(&next)
	return s
}

// requestClientID is the client id a public request names: HTTP Basic
// client authentication, or client_id in the form body or (the
// authorization endpoint) the query; not yet authenticated, and cut to
// 128 bytes of valid UTF-8.
func requestClientID(r *http.Request) string {
	id, ok := authz.BasicUser(r)
	if ok {
		if dec, err := url.QueryUnescape(id); err == nil {
			id = dec
		}
	} else if id = r.PostForm.Get("client_id"); id == "" && r.URL.RawQuery != "" && strings.Contains(r.URL.RawQuery, "client_id=") {
		id = r.URL.Query().Get("client_id")
	}
	if len(id) > 128 {
		id = id[:128]
	}
	return strings.ToValidUTF8(id, "")
}

// oauthErrorCode is the OAuth error code of an answer: the one the
// endpoint left (authz.LogErrorKey), or the error parameter of a redirect
// back to the client (RFC 6749 §4.1.2.1), or "".
func oauthErrorCode(c *gin.Context, status int) string {
	if code := c.GetString(authz.LogErrorKey); code != "" {
		return code
	}
	if status < 300 || status >= 400 {
		return ""
	}
	loc := c.Writer.Header().Get("Location")
	if !strings.Contains(loc, "error=") {
		return ""
	}
	u, err := url.Parse(loc)
	if err != nil {
		return ""
	}
	if code := u.Query().Get("error"); code != "" {
		return code
	}
	q, _ := url.ParseQuery(u.Fragment)
	return q.Get("error")
}

// validRequestID accepts a caller's id only if it is short and plain.
func validRequestID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
