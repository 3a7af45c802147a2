package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/keyward/keyward/store/postgres"
	"github.com/keyward/keyward/store/storetrace"
)

// The standard OpenTelemetry variables that turn tracing on without
// --otlp-endpoint, or that shape it (the exporter reads the others:
// OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _CERTIFICATE, _COMPRESSION, …).
const (
	envOTLPEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	envOTLPTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	envOTLPProtocol       = "OTEL_EXPORTER_OTLP_PROTOCOL"
	envOTLPTracesProtocol = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	envSDKDisabled        = "OTEL_SDK_DISABLED"
)

// otlpTracesPath is where an OTLP/HTTP collector takes spans, below the
// base URL of --otlp-endpoint or OTEL_EXPORTER_OTLP_ENDPOINT.
const otlpTracesPath = "/v1/traces"

// tracing is serve's OpenTelemetry tracing: a tracer provider exporting
// to one exporter, and the W3C Trace Context propagator that continues the
// traces of incoming requests (traceparent) and passes them on in
// outgoing ones. serve has none (a nil *tracing) unless an OTLP endpoint
// is configured or a test gives Main.SpanExporter: then no request is
// wrapped, no store call is traced and no exporter goroutine runs.
type tracing struct {
	provider   *sdktrace.TracerProvider
	propagator propagation.TextMapPropagator
	shutdown   func() error
}

// tracingEnabled reports whether the settings ask for OTLP export.
func (c *Config) tracingEnabled() bool {
	if strings.EqualFold(os.Getenv(envSDKDisabled), "true") {
		return false
	}
	return c.OTLPEndpoint != "" || os.Getenv(envOTLPEndpoint) != "" || os.Getenv(envOTLPTracesEndpoint) != ""
}

// validateTracing reports the problems of the tracing settings: an
// endpoint that is not an http(s) URL, and a protocol other than
// OTLP/HTTP with protobuf, the one Keyward speaks (spans sent to a gRPC
// port would be lost without a word).
func (c *Config) validateTracing() error {
	if !c.tracingEnabled() {
		return nil
	}
	var errs []error
	for _, e := range []struct{ name, v string }{
		{"--otlp-endpoint", c.OTLPEndpoint},
		{envOTLPEndpoint, os.Getenv(envOTLPEndpoint)},
		{envOTLPTracesEndpoint, os.Getenv(envOTLPTracesEndpoint)},
	} {
		if e.v == "" {
			continue
		}
		if u, err := url.Parse(e.v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s: %q must be an http(s) URL, e.g. http://127.0.0.1:4318", e.name, e.v))
		}
	}
	for _, name := range []string{envOTLPTracesProtocol, envOTLPProtocol} {
		if p := os.Getenv(name); p != "" && p != "http/protobuf" {
			errs = append(errs, fmt.Errorf("%s: %q is not supported; Keyward exports OTLP over HTTP (http/protobuf)", name, p))
		}
	}
	return errors.Join(errs...)
}

// otlpTracesURL returns where --otlp-endpoint sends spans: like
// OTEL_EXPORTER_OTLP_ENDPOINT, a base URL below which /v1/traces is
// added (a URL that already ends in /v1/traces is taken as it is).
func otlpTracesURL(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base // validateTracing has refused it
	}
	if !strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), otlpTracesPath) {
		u.Path = path.Join("/", u.Path, otlpTracesPath)
	}
	return u.String()
}

// startTracing returns serve's tracing, or nil when it is off. Spans go
// to m.SpanExporter as they end when a test gives one, else in batches
// to the OTLP endpoint; the exporter's failures are logged. Nothing is
// sent before the first span ends.
func (m *Main) startTracing(ctx context.Context, log *slog.Logger) (*tracing, error) {
	exporter, batch := m.SpanExporter, false
	if exporter == nil {
		if !m.Config.tracingEnabled() {
			return nil, nil
		}
		var opts []otlptracehttp.Option
		if m.Config.OTLPEndpoint != "" {
			opts = append(opts, otlptracehttp.WithEndpointURL(otlpTracesURL(m.Config.OTLPEndpoint)))
		}
		exp, err := otlptracehttp.New(ctx, opts...)
		if err != nil {
			return nil, fmt.Errorf("tracing: %w", err)
		}
		exporter, batch = exp, true
		// The SDK reports export failures to OpenTelemetry's one global
		// handler; send them to the log.
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			log.Warn("tracing: spans not exported", "err", err)
		}))
	}
	res, err := resource.New(ctx,
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithAttributes(semconv.ServiceName("keyward"), semconv.ServiceVersion(Version),
			semconv.ServiceInstanceID(uuid.NewString())),
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win
	)
	if err != nil {
		return nil, usageError{fmt.Errorf("tracing: resource attributes: %w", err)}
	}
	processor := sdktrace.WithSyncer(exporter)
	if batch {
		processor = sdktrace.WithBatcher(exporter)
	}
	// The sampler is the SDK's: the caller's decision when a traceparent
	// comes in, else every trace, unless OTEL_TRACES_SAMPLER says otherwise.
	tp := sdktrace.NewTracerProvider(processor, sdktrace.WithResource(res))
	t := &tracing{provider: tp, propagator: propagation.TraceContext{}}
	var once sync.Once
	var shutErr error
	t.shutdown = func() error {
		once.Do(func() {
			// Flush what is still queued; a collector that does not answer
			// does not hold up the exit for long.
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if shutErr = tp.Shutdown(sctx); shutErr != nil {
				shutErr = fmt.Errorf("tracing: flush spans: %w", shutErr)
			}
		})
		return shutErr
	}
	m.onClose(t.shutdown)
	return t, nil
}

// close flushes the spans still queued and stops the exporter; it is
// safe on a nil *tracing and more than once.
func (t *tracing) close() error {
	if t == nil {
		return nil
	}
	return t.shutdown()
}

// tracedDatabase is a database whose store calls are traced (see
// store/storetrace); migrations are not.
type tracedDatabase struct {
	*storetrace.DB
	migrator
}

type migrator interface {
	Migrate(ctx context.Context) error
	Pending(ctx context.Context) (bool, error)
}

var _ database = tracedDatabase{}

// database returns db with its store calls traced, or db itself when
// tracing is off.
func (t *tracing) database(db database) database {
	if t == nil {
		return db
	}
	engine := storetrace.SQLite
	if _, ok := db.(*postgres.DB); ok {
		engine = storetrace.Postgres
	}
	return tracedDatabase{DB: storetrace.Wrap(db, t.provider, engine), migrator: db}
}
