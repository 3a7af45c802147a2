package main

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// middlewareCase is one piece of middleware that every request (or every
// request of a route family) pays, mounted alone in front of a handler
// that writes fixed bytes, so its cost is the difference to the bare route.
type middlewareCase struct {
	name string
	// budget is the most heap allocations the middleware may add per
	// request (TestMiddlewareAllocationBudgets).
	budget float64
	// build returns the handler: engine with the middleware mounted.
	build func(tb testing.TB) http.Handler
	req   func() *http.Request
}

var (
	hello    = []byte("hello")
	tlsState = &tls.ConnectionState{}
)

func helloEngine(mw ...gin.HandlerFunc) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.ContextWithFallback = true
	r.Use(mw...)
	r.POST("/oauth2/token", func(c *gin.Context) { c.Data(http.StatusOK, "text/plain", hello) })
	r.GET("/hello", func(c *gin.Context) { c.Data(http.StatusOK, "text/plain", hello) })
	return r
}

// tokenRequest is a request as the token endpoint sees it: a form body
// and HTTP Basic client authentication, parsed as the handler would.
func tokenRequest() *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/oauth2/token",
		strings.NewReader("grant_type=client_credentials&scope=read"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("0193a3f1-2b4c-7d5e-8f60-718293a4b5c6", "secret")
	req.RemoteAddr = "127.0.0.1:50000"
	return req
}

func helloRequest() *http.Request {
	req := httptest.NewRequest(http.MethodGet, "/hello", nil)
	req.RemoteAddr = "127.0.0.1:50000"
	return req
}

func middlewareCases() []middlewareCase {
	quietLog, quietOut := newLogger(io.Discard, true)
	quiet := requestLogger{log: quietLog, out: quietOut}
	metrics := func() *requestMetrics { return newRequestMetrics(prometheus.NewRegistry()) }
	return []middlewareCase{
		{name: "none (gin and the test request)", budget: 0,
			build: func(testing.TB) http.Handler { return helloEngine() }, req: helloRequest},
		{name: "access log, metrics and request id (GET)", budget: 1,
			build: func(testing.TB) http.Handler { return helloEngine(accessLog(quiet, "public", metrics(), false)) },
			req:   helloRequest},
		{name: "access log, metrics and request id (token POST)", budget: 2,
			build: func(testing.TB) http.Handler { return helloEngine(accessLog(quiet, "public", metrics(), false)) },
			req:   tokenRequest},
		{name: "recovery", budget: 0,
			build: func(testing.TB) http.Handler { return helloEngine(gin.CustomRecovery(recovered(quietLog))) },
			req:   helloRequest},
		{name: "HSTS (https)", budget: 0,
			build: func(testing.TB) http.Handler { return hsts(helloEngine()) },
			req: func() *http.Request {
				r := helloRequest()
				r.TLS = tlsState
				return r
			}},
	}
}

// TestMiddlewareAllocationBudgets fails when a piece of middleware that
// every request pays allocates more than its budget per request, over
// the bare route (whose own allocations, gin's and the test request's,
// are subtracted).
func TestMiddlewareAllocationBudgets(t *testing.T) {
	cases := middlewareCases()
	base := map[string]float64{}
	for _, req := range []func() *http.Request{helloRequest, tokenRequest} {
		h := helloEngine()
		base[req().Method] = testing.AllocsPerRun(200, func() { h.ServeHTTP(newSink(), req()) })
	}
	for _, mc := range cases[1:] {
		h := mc.build(t)
		if w := newSink(); func() bool { h.ServeHTTP(w, mc.req()); return w.Code != http.StatusOK }() {
			t.Fatalf("%s: not 200", mc.name)
		}
		got := testing.AllocsPerRun(200, func() { h.ServeHTTP(newSink(), mc.req()) }) - base[mc.req().Method]
		t.Logf("%-48s %3.0f allocations per request (budget %.0f)", mc.name, got, mc.budget)
		if got > mc.budget {
			t.Errorf("%s: %.0f allocations per request, over its budget of %.0f", mc.name, got, mc.budget)
		}
	}
}

// BenchmarkMiddleware measures each piece of middleware alone (run with
// -benchmem; subtract the "none" case).
func BenchmarkMiddleware(b *testing.B) {
	for _, mc := range middlewareCases() {
		b.Run(mc.name, func(b *testing.B) {
			h := mc.build(b)
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(newSink(), mc.req())
			}
		})
	}
}

// sink is a ResponseWriter that keeps only the status and headers, with a
// fresh header map per response as net/http's server has (httptest's
// recorder would add a clone of the headers to every count).
type sink struct {
	h    http.Header
	Code int
}

func newSink() *sink { return &sink{h: make(http.Header), Code: http.StatusOK} }

func (s *sink) Header() http.Header         { return s.h }
func (s *sink) Write(b []byte) (int, error) { return len(b), nil }
func (s *sink) WriteHeader(code int)        { s.Code = code }
