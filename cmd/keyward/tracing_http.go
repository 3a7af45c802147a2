package main

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// httpScope is the instrumentation scope of the request spans.
const httpScope = "github.com/keyward/keyward/cmd/keyward"

// middleware returns the handlers that trace each request of a listener
// ("public" or "admin"): none when tracing is off. Use them first, so the
// span covers the other middleware (the access log, recovery) too.
//
// Each request gets a server span, the child of the caller's span when a
// W3C traceparent header names one, named after the method and the route
// template ("POST /oauth2/token", "GET /admin/v1/clients/:id"; just the
// method when no route matched), never the path, which may hold ids or a
// one-time setup token. It carries the method, route, scheme, listener,
// the client's address and the status code; no header, query or body.
// The handlers get the span in c.Request.Context(), so the store calls
// and outgoing requests they make are its children; the spans that
// libraries start from it (fosite's) are scrubbed of error messages (see
// scrubbingSpan).
func (t *tracing) middleware(listener string) []gin.HandlerFunc {
	if t == nil {
		return nil
	}
	tracer := t.provider.Tracer(httpScope)
	scrub := scrubbingProvider{tp: t.provider}
	return []gin.HandlerFunc{func(c *gin.Context) {
		r := c.Request
		ctx := t.propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		method, route := r.Method, c.FullPath()
		name := method
		switch {
		case !httpMethods[method]:
			method, name = "_OTHER", "HTTP"
		case route != "":
			name = method + " " + route
		}
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		attrs := []attribute.KeyValue{
			semconv.HTTPRequestMethodKey.String(method),
			semconv.URLScheme(scheme),
			attribute.String("keyward.listener", listener),
			semconv.ClientAddress(c.ClientIP()),
		}
		if route != "" {
			attrs = append(attrs, semconv.HTTPRoute(route))
		}
		ctx, span := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
		defer span.End()
		c.Request = r.WithContext(trace.ContextWithSpan(ctx, scrubbingSpan{Span: span, p: scrub}))
		c.Next()
		status := c.Writer.Status()
		span.SetAttributes(semconv.HTTPResponseStatusCode(status))
		if status >= 500 {
			// A 4xx is the client's mistake, not the server's (semantic
			// conventions for server spans).
			span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(status)))
			span.SetStatus(codes.Error, "")
		}
	}}
}

// httpMethods are the methods named as themselves in span names and
// attributes; any other (a client may send anything) is "_OTHER", and its
// span is named "HTTP".
var httpMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true, http.MethodPatch: true,
	http.MethodDelete: true, http.MethodConnect: true, http.MethodOptions: true, http.MethodTrace: true,
}

// client returns a copy of c whose requests are traced: each is a client
// span named "<METHOD> <operation>" (e.g. "POST webhook"), the child of
// the span in the request's context, and carries the trace on in a
// traceparent header, so the receiver can continue it. It returns c
// itself when tracing is off. Apply it where an outbound client is built
// (webhook delivery, the outbound fetcher).
//
// The spans come from otelhttp, scrubbed (scrubbingSpan): a URL can hold
// a secret (a webhook URL with a token in its path or query), so url.full
// keeps only the scheme and host, and no error message (which repeats
// the URL) is kept.
func (t *tracing) client(c *http.Client, operation string) *http.Client {
	if t == nil {
		return c
	}
	out := *c
	out.Transport = otelhttp.NewTransport(c.Transport,
		otelhttp.WithTracerProvider(scrubbingProvider{tp: t.provider}),
		otelhttp.WithPropagators(t.propagator),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			return r.Method + " " + operation
		}),
	)
	return &out
}

// scrubbingProvider hands out tracers whose spans drop what could hold a
// secret: see scrubbingSpan. Outgoing requests get their spans from it,
// and so does every library that takes its tracer from the request's span
// (fosite does), because the request's span in the context answers
// TracerProvider with it.
type scrubbingProvider struct {
	embedded.TracerProvider
	tp trace.TracerProvider
}

func (p scrubbingProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return scrubbingTracer{t: p.tp.Tracer(name, opts...), p: p}
}

type scrubbingTracer struct {
	embedded.Tracer
	t trace.Tracer
	p scrubbingProvider
}

func (t scrubbingTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	ctx, span := t.t.Start(ctx, name, opts...)
	s := scrubbingSpan{Span: span, p: t.p}
	return trace.ContextWithSpan(ctx, s), s
}

// scrubbingSpan is a span that keeps no error message, since messages
// repeat what failed (a URL with a token in it, a wrapped store error):
// no status description, no recorded error, no error.debug or
// error.details.* attribute (fosite's); and of url.full only the scheme
// and host. Its children come from the same scrubbing provider.
type scrubbingSpan struct {
	trace.Span
	p scrubbingProvider
}

func (s scrubbingSpan) SetAttributes(kv ...attribute.KeyValue) {
	out := kv[:0:0]
	for _, a := range kv {
		switch {
		case a.Key == "error.debug", strings.HasPrefix(string(a.Key), "error.details."):
			continue
		case a.Key == semconv.URLFullKey:
			a = semconv.URLFull(originOf(a.Value.AsString()))
		}
		out = append(out, a)
	}
	s.Span.SetAttributes(out...)
}

func (s scrubbingSpan) SetStatus(code codes.Code, _ string) { s.Span.SetStatus(code, "") }

func (s scrubbingSpan) RecordError(error, ...trace.EventOption) {}

func (s scrubbingSpan) TracerProvider() trace.TracerProvider { return s.p }

// originOf returns "scheme://host[:port]" of a URL, or "" for one that
// does not parse.
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
