package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// The outbound client helper: each request is a client span, child of
// the caller's span, whose trace the receiver gets in traceparent; and no
// part of the URL but its origin, nor any error message, is kept.
func TestTracedClient(t *testing.T) {
	t.Parallel()
	exp := keptSpans{tracetest.NewInMemoryExporter()}
	m := &Main{SpanExporter: exp}
	tr, err := m.startTracing(t.Context(), m.log())
	if err != nil || tr == nil {
		t.Fatalf("startTracing: %v, %v", tr, err)
	}
	defer m.Close()

	var mu sync.Mutex
	var got http.Header
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.Header.Clone()
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()

	base := &http.Client{Timeout: 5 * time.Second}
	c := tr.client(base, "webhook")
	if base.Transport != nil || c == base {
		t.Fatal("client must return a traced copy and leave the original alone")
	}
	ctx, parent := tr.provider.Tracer("test").Start(context.Background(), "deliver")
	const secretPath, secretQuery = "/hooks/T0PS3CRETPATH", "token=T0PS3CRETQUERY"
	post := func(base string) (*http.Response, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+secretPath+"?"+secretQuery, strings.NewReader("{}"))
		return c.Do(req)
	}
	resp, err := post(rcv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := post(deadURL); err == nil {
		t.Fatal("POST to a closed server succeeded")
	}
	parent.End()

	spans := exp.GetSpans()
	var client []tracetest.SpanStub
	for _, s := range spans {
		if s.Name == "POST webhook" {
			client = append(client, s)
		}
		for _, text := range spanTexts(s) {
			if strings.Contains(text, "T0PS3CRET") {
				t.Errorf("span %q keeps part of the URL: %q", s.Name, text)
			}
		}
	}
	if len(client) != 2 {
		t.Fatalf("want two POST webhook spans, got %v", names(spans))
	}
	for i, want := range []struct{ origin, status string }{{rcv.URL, "204"}, {deadURL, ""}} {
		s := client[i]
		a := attrMap(s.Attributes)
		if s.SpanKind != trace.SpanKindClient || s.Parent.SpanID() != parent.SpanContext().SpanID() ||
			s.SpanContext.TraceID() != parent.SpanContext().TraceID() {
			t.Errorf("span %d: kind %v, parent %s; want a client span below the caller's", i, s.SpanKind, s.Parent.SpanID())
		}
		if a["url.full"] != want.origin || a["http.response.status_code"] != want.status {
			t.Errorf("span %d: url.full %q, status %q; want %q, %q", i, a["url.full"], a["http.response.status_code"], want.origin, want.status)
		}
	}
	if client[1].Status.Code != codes.Error || client[1].Status.Description != "" {
		t.Errorf("failed request's status %+v, want Error without a message", client[1].Status)
	}
	mu.Lock()
	defer mu.Unlock()
	sc := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), propagation.HeaderCarrier(got)))
	if sc.TraceID() != parent.SpanContext().TraceID() || sc.SpanID() != client[0].SpanContext.SpanID() {
		t.Errorf("receiver's traceparent %q: want trace %s, span %s", got.Get("Traceparent"),
			parent.SpanContext().TraceID(), client[0].SpanContext.SpanID())
	}
}
