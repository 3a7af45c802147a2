package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/keyward/keyward/authz/authztest"
	"github.com/keyward/keyward/authz/clients"
)

// BenchmarkTokenTracing is authz's BenchmarkClientCredentialsJWT behind
// serve's tracing middleware: off (serve without an endpoint: no
// middleware at all) and on (every request sampled, spans handed to an
// exporter that drops them), each request carrying a traceparent.
func BenchmarkTokenTracing(b *testing.B) {
	for _, mode := range []string{"off", "on"} {
		b.Run(mode, func(b *testing.B) {
			st := authztest.New(b, authztest.Options{Issuer: "http://127.0.0.1:8080", TokenRate: -1})
			var tr *tracing
			if mode == "on" {
				m := &Main{SpanExporter: tracetest.NewNoopExporter()}
				var err error
				if tr, err = m.startTracing(context.Background(), m.log()); err != nil {
					b.Fatal(err)
				}
				defer m.Close()
			}
			gin.SetMode(gin.ReleaseMode)
			r := gin.New()
			r.Use(tr.middleware("public")...)
			st.Provider.Mount(r)
			c, secret, err := st.Clients.Create(context.Background(), clients.Params{Name: "bench", Scopes: []string{"read"}})
			if err != nil {
				b.Fatal(err)
			}
			body := url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}.Encode()
			post := func() int {
				req := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
				req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(secret))
				w := httptest.NewRecorder()
				r.ServeHTTP(w, req)
				return w.Code
			}
			if code := post(); code != http.StatusOK {
				b.Fatalf("token: %d", code)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if code := post(); code != http.StatusOK {
						b.Fatalf("token: %d", code)
					}
				}
			})
		})
	}
}
