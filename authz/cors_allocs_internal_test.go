package authz

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/sqlite/sqlitetest"
)

// corsCases are the CORS middleware of the public routes, each alone in
// front of a handler that writes fixed bytes.
func corsCases(tb testing.TB) []struct {
	name   string
	budget float64
	h      http.Handler
	origin string
} {
	ctx := context.Background()
	db := sqlitetest.Open(tb)
	if err := db.CreateClient(ctx, &store.Client{ID: "spa", Name: "SPA", RedirectURIs: []string{"https://app.example/cb"}}); err != nil {
		tb.Fatal(err)
	}
	p := &Provider{cors: newCORSOrigins(db, time.Now)}
	engine := func(mw gin.HandlerFunc) http.Handler {
		gin.SetMode(gin.ReleaseMode)
		r := gin.New()
		r.GET("/x", mw, func(c *gin.Context) { c.Writer.Write([]byte("hello")) })
		return r
	}
	return []struct {
		name   string
		budget float64
		h      http.Handler
		origin string
	}{
		{"public document (any origin)", 1, engine(publicCORS("ETag, Cache-Control")), "https://elsewhere.example"},
		{"client endpoint, no Origin", 0, engine(p.clientCORS), ""},
		{"client endpoint, allowed Origin", 2, engine(p.clientCORS), "https://app.example"},
		{"client endpoint, other Origin", 3, engine(p.clientCORS), "https://elsewhere.example"},
	}
}

// TestCORSAllocationBudgets: the CORS middleware adds at most its budget
// of allocations to a request (over the bare route).
func TestCORSAllocationBudgets(t *testing.T) {
	bare := func() http.Handler {
		r := gin.New()
		r.GET("/x", func(c *gin.Context) { c.Writer.Write([]byte("hello")) })
		return r
	}()
	req := func(origin string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/x", nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		return r
	}
	for _, cc := range corsCases(t) {
		base := testing.AllocsPerRun(200, func() { bare.ServeHTTP(newSink(), req(cc.origin)) })
		w := newSink()
		cc.h.ServeHTTP(w, req(cc.origin))
		if cc.name == "client endpoint, allowed Origin" && w.h.Get("Access-Control-Allow-Origin") != cc.origin {
			t.Fatalf("%s: no Access-Control-Allow-Origin", cc.name)
		}
		got := testing.AllocsPerRun(200, func() { cc.h.ServeHTTP(newSink(), req(cc.origin)) }) - base
		t.Logf("%-36s %2.0f allocations per request (budget %.0f)", cc.name, got, cc.budget)
		if got > cc.budget {
			t.Errorf("%s: %.0f allocations per request, over its budget of %.0f", cc.name, got, cc.budget)
		}
	}
}

// BenchmarkCORS measures each CORS middleware alone (-benchmem).
func BenchmarkCORS(b *testing.B) {
	for _, cc := range corsCases(b) {
		b.Run(cc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := httptest.NewRequest(http.MethodGet, "/x", nil)
				if cc.origin != "" {
					r.Header.Set("Origin", cc.origin)
				}
				cc.h.ServeHTTP(newSink(), r)
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
