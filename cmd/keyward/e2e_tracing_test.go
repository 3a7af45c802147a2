package main

import (
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// traceparent returns a W3C traceparent header of a new sampled trace,
// with its trace and span ids.
func traceparent(t *testing.T) (header string, traceID trace.TraceID, spanID trace.SpanID) {
	t.Helper()
	rand.Read(traceID[:])
	rand.Read(spanID[:])
	return fmt.Sprintf("00-%s-%s-01", hex.EncodeToString(traceID[:]), hex.EncodeToString(spanID[:])), traceID, spanID
}

// tokenWithTrace asks for a client-credentials token as c, continuing the
// trace of header; it fails unless the answer is 200.
func tokenWithTrace(t *testing.T, s *server, c clientInfo, header string) reply {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}
	req, _ := http.NewRequest(http.MethodPost, s.PublicURL+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Traceparent", header)
	req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	r := do(t, req)
	if r.status != http.StatusOK || r.str("access_token") == "" {
		t.Fatalf("token: %d %s", r.status, r.raw)
	}
	return r
}

func attrMap(kvs []attribute.KeyValue) map[attribute.Key]string {
	m := map[attribute.Key]string{}
	for _, kv := range kvs {
		m[kv.Key] = kv.Value.Emit()
	}
	return m
}

// TestTracing runs serve with the SDK's in-memory exporter: a token
// request that carries a traceparent is one server span continuing that
// trace, named after its route, with a child span per store call; admin
// requests are traced by route template too, never by their path; and
// no span holds a secret.
func TestTracing(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		app := e.newClient("--name", "traced", "--grant-type", "client_credentials", "--scope", "read")
		ops := e.newClient("--name", "ops", "--scope", "keyward:admin")
		exp := keptSpans{tracetest.NewInMemoryExporter()}
		e.configure = func(m *Main) { m.SpanExporter = exp }
		s := e.serve()

		header, traceID, parentID := traceparent(t)
		tok := tokenWithTrace(t, s, app, header)
		if code := adminCall(t, s, ops, http.MethodGet, "/clients/"+app.ClientID, nil); code != http.StatusOK {
			t.Fatalf("admin GET client: %d", code)
		}
		if code, _ := get(t, s.PublicURL+"/no/such/"+app.ClientID); code != http.StatusNotFound {
			t.Fatalf("unknown path: %d", code)
		}
		odd, _ := http.NewRequest("FROB", s.PublicURL+"/oauth2/token", nil)
		if r := do(t, odd); r.status < 400 {
			t.Fatalf("FROB: %d", r.status)
		}
		// Failures too: a wrong secret, and introspection of a made-up token.
		wrong := "wrong-" + randString(t, 24)
		form := url.Values{"grant_type": {"client_credentials"}}
		if r := postForm(t, s.PublicURL+"/oauth2/token", form, app.ClientID, wrong); r.status != http.StatusUnauthorized {
			t.Fatalf("wrong secret: %d %s", r.status, r.raw)
		}
		madeUp := "made-up-" + randString(t, 24)
		if r := postForm(t, s.PublicURL+"/oauth2/introspect", url.Values{"token": {madeUp}}, app.ClientID, app.ClientSecret); r.str("active") != "" {
			t.Fatalf("introspection: %d %s", r.status, r.raw)
		}
		if code := s.stop(); code != 0 {
			t.Fatalf("serve exit %d:\n%s", code, s.logs)
		}
		spans := exp.GetSpans() // every span has ended: the server has stopped

		// The token request continues the caller's trace.
		var req *tracetest.SpanStub
		for i := range spans {
			if spans[i].SpanContext.TraceID() == traceID && spans[i].SpanKind == trace.SpanKindServer {
				if req != nil {
					t.Fatalf("two server spans in the caller's trace: %s, %s", req.Name, spans[i].Name)
				}
				req = &spans[i]
			}
		}
		if req == nil {
			t.Fatalf("no server span in the caller's trace %s; spans: %v", traceID, names(spans))
		}
		if req.Name != "POST /oauth2/token" {
			t.Errorf("request span name %q, want the method and route", req.Name)
		}
		if req.Parent.SpanID() != parentID || !req.Parent.IsRemote() {
			t.Errorf("request span's parent %s (remote %v), want the caller's span %s", req.Parent.SpanID(), req.Parent.IsRemote(), parentID)
		}
		a := attrMap(req.Attributes)
		if a["http.route"] != "/oauth2/token" || a["http.request.method"] != "POST" || a["http.response.status_code"] != "200" ||
			a["keyward.listener"] != "public" {
			t.Errorf("request span attributes %v", a)
		}
		r := attrMap(req.Resource.Attributes())
		if r["service.name"] != "keyward" || r["service.version"] != Version {
			t.Errorf("resource %v, want service keyward %s", r, Version)
		}

		// Its store calls are its children (the client is read once: the
		// server's cache is cold, the CLI made it), directly or below
		// fosite's spans or a transaction's.
		byID := map[trace.SpanID]tracetest.SpanStub{}
		for _, sp := range spans {
			byID[sp.SpanContext.SpanID()] = sp
		}
		var store []string
		for _, sp := range spans {
			if sp.SpanContext.TraceID() != traceID || sp.SpanKind == trace.SpanKindServer {
				continue
			}
			if !strings.HasPrefix(sp.Name, "store.") {
				if !strings.HasPrefix(sp.Name, "Fosite.") {
					t.Errorf("unexpected span %q in the request's trace", sp.Name)
				}
				continue
			}
			store = append(store, sp.Name)
			parent := sp.Parent.SpanID()
			for parent != req.SpanContext.SpanID() && byID[parent].Name != "" {
				parent = byID[parent].Parent.SpanID()
			}
			if parent != req.SpanContext.SpanID() {
				t.Errorf("%s is not a child of the request span", sp.Name)
			}
			if sp.SpanKind != trace.SpanKindClient || attrMap(sp.Attributes)["db.system.name"] == "" {
				t.Errorf("%s: kind %v, attributes %v", sp.Name, sp.SpanKind, sp.Attributes)
			}
		}
		if !slices.Contains(store, "store.GetClient") {
			t.Errorf("store spans of the token request: %v, want store.GetClient among them", store)
		}

		// Admin and unmatched requests are named by route, never by path.
		all := names(spans)
		if !slices.Contains(all, "GET /admin/v1/clients/:id") {
			t.Errorf("no span for the admin request by its route template; spans: %v", all)
		}
		if !slices.Contains(all, "GET") {
			t.Errorf("an unmatched request is named by its method alone; spans: %v", all)
		}
		for _, sp := range spans {
			if a := attrMap(sp.Attributes); sp.Name == "HTTP" && a["http.request.method"] != "_OTHER" {
				t.Errorf("span of an unknown method: method %q", a["http.request.method"])
			}
		}
		if !slices.Contains(all, "HTTP") {
			t.Errorf("a request with an unknown method is named HTTP; spans: %v", all)
		}
		for _, n := range all {
			if strings.Contains(n, app.ClientID) {
				t.Errorf("span name %q holds an id from the path", n)
			}
		}

		// No span anywhere holds a secret, nor an error message that could
		// repeat one (fosite's error.debug, status descriptions), though
		// the OAuth error code stays.
		var oauthError bool
		secrets := map[string]string{
			"wrong secret": wrong, "made-up token": madeUp,
			"client secret": app.ClientSecret, "admin client secret": ops.ClientSecret,
			"access token":  tok.str("access_token"),
			"Authorization": base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(app.ClientID) + ":" + url.QueryEscape(app.ClientSecret))),
		}
		for _, sp := range spans {
			if sp.Status.Description != "" {
				t.Errorf("span %q has the status description %q", sp.Name, sp.Status.Description)
			}
			a := attrMap(sp.Attributes)
			if _, ok := a["error.debug"]; ok {
				t.Errorf("span %q keeps error.debug %q", sp.Name, a["error.debug"])
			}
			oauthError = oauthError || a["error"] == "invalid_client"
			for _, text := range spanTexts(sp) {
				for what, secret := range secrets {
					if secret != "" && strings.Contains(text, secret) {
						t.Errorf("span %q holds the %s: %q", sp.Name, what, text)
					}
				}
			}
		}
		if !oauthError {
			t.Error("no span says invalid_client for the wrong secret")
		}
	})
}

// keptSpans is the in-memory exporter, keeping its spans when serve
// shuts it down.
type keptSpans struct{ *tracetest.InMemoryExporter }

func (keptSpans) Shutdown(context.Context) error { return nil }

func names(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}

// spanTexts returns every string a span carries: name, status, attributes,
// events and their attributes, resource.
func spanTexts(s tracetest.SpanStub) []string {
	out := []string{s.Name, s.Status.Description}
	kvs := append(append([]attribute.KeyValue{}, s.Attributes...), s.Resource.Attributes()...)
	for _, ev := range s.Events {
		out = append(out, ev.Name)
		kvs = append(kvs, ev.Attributes...)
	}
	for _, kv := range kvs {
		out = append(out, string(kv.Key)+"="+kv.Value.Emit())
	}
	return out
}

// otlpReceiver is an in-process OTLP/HTTP collector: it takes protobuf
// ExportTraceServiceRequests on /v1/traces.
type otlpReceiver struct {
	*httptest.Server
	mu    sync.Mutex
	spans []string // "<trace id> <name> <service.name>"
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	rc := &otlpReceiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			t.Errorf("OTLP receiver: %s %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
			http.NotFound(w, r)
			return
		}
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		b, _ := io.ReadAll(body)
		var req collectortrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &req); err != nil {
			t.Errorf("OTLP receiver: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rc.mu.Lock()
		for _, rs := range req.ResourceSpans {
			service := ""
			for _, kv := range rs.Resource.GetAttributes() {
				if kv.Key == "service.name" {
					service = kv.Value.GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					rc.spans = append(rc.spans, hex.EncodeToString(sp.TraceId)+" "+sp.Name+" "+service)
				}
			}
		}
		rc.mu.Unlock()
		out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.Write(out)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *otlpReceiver) received() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.spans)
}

// TestTracingOTLPExport: with --otlp-endpoint (or the standard variable)
// the spans of a token request reach an OTLP/HTTP collector at
// <endpoint>/v1/traces, flushed when the server stops.
func TestTracingOTLPExport(t *testing.T) {
	for _, how := range []string{"flag", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
		t.Run(how, func(t *testing.T) {
			rc := newOTLPReceiver(t)
			e := sqliteEnv(t)
			app := e.newClient("--name", "traced", "--grant-type", "client_credentials", "--scope", "read")
			var s *server
			if how == "flag" {
				s = e.serve("--otlp-endpoint", rc.URL)
			} else {
				t.Setenv(envOTLPEndpoint, rc.URL)
				s = e.serve()
			}
			header, traceID, _ := traceparent(t)
			tokenWithTrace(t, s, app, header)
			if code := s.stop(); code != 0 {
				t.Fatalf("serve exit %d:\n%s", code, s.logs)
			}
			got := rc.received()
			for _, want := range []string{"POST /oauth2/token", "store.GetClient"} {
				if !slices.Contains(got, hex.EncodeToString(traceID[:])+" "+want+" keyward") {
					t.Errorf("collector lacks span %q of trace %s from service keyward; got %v", want, traceID, got)
				}
			}
		})
	}
}

// Without an endpoint, serve has no tracing at all: no tracer provider,
// so no exporter goroutine, no span and the store unwrapped.
func TestTracingOffByDefault(t *testing.T) {
	t.Setenv(envOTLPEndpoint, "")
	t.Setenv(envOTLPTracesEndpoint, "")
	m := &Main{}
	tr, err := m.startTracing(t.Context(), m.log())
	if err != nil || tr != nil {
		t.Fatalf("startTracing without an endpoint = %v, %v; want nil", tr, err)
	}
	if h := tr.middleware("public"); len(h) != 0 {
		t.Error("middleware installed with tracing off")
	}
	c := &http.Client{}
	if tr.client(c, "webhook") != c {
		t.Error("client wrapped with tracing off")
	}
	e := sqliteEnv(t)
	db, err := (&Main{Config: Config{DataDir: e.dataDir}}).openDatabase(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if tr.database(db) != db {
		t.Error("database wrapped with tracing off")
	}
	t.Setenv(envOTLPEndpoint, "http://127.0.0.1:4318")
	t.Setenv(envSDKDisabled, "true")
	if (&Config{}).tracingEnabled() {
		t.Error("OTEL_SDK_DISABLED=true must turn tracing off")
	}
}

// Tracing settings that cannot work are settings problems, reported with
// the others.
func TestTracingSettings(t *testing.T) {
	e := sqliteEnv(t)
	settingsProblem(t, e, []string{"serve", "--otlp-endpoint", "ftp://collector", "--log-format", "xml"},
		"2 problems:", "--otlp-endpoint", "--log-format")
	t.Setenv("KEYWARD_OTLP_ENDPOINT", "collector:4318")
	settingsProblem(t, e, []string{"serve"}, `--otlp-endpoint: "collector:4318" must be an http(s) URL`)
	t.Setenv("KEYWARD_OTLP_ENDPOINT", "")
	t.Setenv(envOTLPTracesEndpoint, "http://127.0.0.1:4317")
	t.Setenv(envOTLPProtocol, "grpc")
	settingsProblem(t, e, []string{"serve"}, envOTLPProtocol+`: "grpc" is not supported`)

	for in, want := range map[string]string{
		"http://127.0.0.1:4318":                   "http://127.0.0.1:4318/v1/traces",
		"http://127.0.0.1:4318/":                  "http://127.0.0.1:4318/v1/traces",
		"https://otel.example/base":               "https://otel.example/base/v1/traces",
		"https://otel.example/base/v1/traces":     "https://otel.example/base/v1/traces",
		"https://otel.example/v1/traces/":         "https://otel.example/v1/traces/",
		"https://user:pw@otel.example:4318/x?q=1": "https://user:pw@otel.example:4318/x/v1/traces?q=1",
	} {
		if got := otlpTracesURL(in); got != want {
			t.Errorf("otlpTracesURL(%q) = %q, want %q", in, got, want)
		}
	}
}
