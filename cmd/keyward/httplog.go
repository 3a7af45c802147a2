package main

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

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
// never the raw path.
func accessLog(log *slog.Logger, listener string, metrics *requestMetrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		var apiRoute string
		if listener == "admin" && strings.HasPrefix(c.Request.URL.Path, "/admin/v1") {
			c.Request = c.Request.WithContext(admin.WithRoute(c.Request.Context(), &apiRoute))
		}
		start := time.Now()
		id := c.GetHeader("X-Request-Id")
		if !validRequestID(id) {
			var b [8]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Set("request_id", id)
		c.Header("X-Request-Id", id)
		c.Next()
		status := c.Writer.Status()
		elapsed := time.Since(start)
		route := c.FullPath()
		if strings.HasPrefix(route, "/admin/v1") {
			route = apiRoute
		}
		if route == "" {
			route = "unmatched"
		}
		metrics.requests.WithLabelValues(listener, route, strconv.Itoa(status)).Inc()
		metrics.duration.WithLabelValues(listener, route).Observe(elapsed.Seconds())
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		if !log.Enabled(c.Request.Context(), level) {
			return
		}
		attrs := []slog.Attr{
			slog.String("request_id", id), slog.String("listener", listener),
			slog.String("method", c.Request.Method), slog.String("path", c.Request.URL.Path),
			slog.Int("status", status), slog.Int("bytes", c.Writer.Size()),
			slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000), slog.String("remote", c.ClientIP()),
		}
		if listener == "public" {
			if id := requestClientID(c.Request); id != "" {
				attrs = append(attrs, slog.String("client_id", id))
			}
			if code := oauthErrorCode(c, status); code != "" {
				attrs = append(attrs, slog.String("oauth_error", code))
			}
		}
		if len(c.Errors) > 0 {
			attrs = append(attrs, slog.String("error", c.Errors.Last().Error()))
		}
		log.LogAttrs(c.Request.Context(), level, "request", attrs...)
	}
}

// requestClientID is the client id a public request names: HTTP Basic
// client authentication, or client_id in the form body or (the
// authorization endpoint) the query; not yet authenticated, and cut to
// 128 bytes of valid UTF-8.
func requestClientID(r *http.Request) string {
	id, _, ok := r.BasicAuth()
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
