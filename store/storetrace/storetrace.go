package storetrace

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
)

// Inner is what DB wraps: every storage contract of the server, which
// both engines implement.
type Inner interface {
	store.Store
	store.TokenBatchReader
	store.Events
	store.SecretChecker
	keys.Store
	keys.BatchStore
	keys.RateCounter
	signing.Store
}

// Engine names for Wrap (the db.system.name of OpenTelemetry's semantic
// conventions).
const (
	SQLite   = "sqlite"
	Postgres = "postgresql"
)

// instrumentation is the name of the tracer DB uses.
const instrumentation = "github.com/keyward/keyward/store/storetrace"

// DB is a store whose calls are traced. Every method of Inner is
// overridden with a traced one (TestEveryMethodTraced checks it), except
// Subscribe, AfterCommit and Close, which are not calls to the database.
type DB struct {
	Inner
	// Roots makes calls outside any trace start spans of their own (the
	// tests use it); off, they start none.
	Roots bool

	tracer trace.Tracer
	attrs  trace.SpanStartOption
}

var (
	_ Inner            = (*DB)(nil)
	_ keys.RateCounter = (*DB)(nil)
)

// Wrap returns inner traced with tp; engine is SQLite or Postgres.
func Wrap(inner Inner, tp trace.TracerProvider, engine string) *DB {
	return &DB{
		Inner:  inner,
		tracer: tp.Tracer(instrumentation),
		attrs:  trace.WithAttributes(semconv.DBSystemNameKey.String(engine)),
	}
}

// call is one traced call; its zero value (no span) does nothing.
type call struct{ span trace.Span }

// start begins the span of the call op when ctx is within a trace (or
// Roots is set); the returned context carries it to the engine.
func (d *DB) start(ctx context.Context, op string) (context.Context, call) {
	if !d.Roots && !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx, call{}
	}
	ctx, span := d.tracer.Start(ctx, "store."+op, d.attrs, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(semconv.DBOperationName(op)))
	return ctx, call{span}
}

// end ends the span with err's kind and returns err.
func (c call) end(err error) error {
	if c.span == nil {
		return err
	}
	if err != nil {
		kind, fault := classify(err)
		c.span.SetAttributes(attribute.String(string(semconv.ErrorTypeKey), kind))
		if fault {
			c.span.SetStatus(codes.Error, kind)
		}
	}
	c.span.End()
	return err
}

// classify names the kind of a store error and says whether it is a
// fault (the database failed) rather than an answer.
func classify(err error) (kind string, fault bool) {
	switch {
	case errors.Is(err, store.ErrUnavailable):
		return "unavailable", true
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout", true
	case errors.Is(err, context.Canceled):
		return "canceled", false
	case errors.Is(err, store.ErrNotFound):
		return "not_found", false
	case errors.Is(err, store.ErrConflict):
		return "conflict", false
	case errors.Is(err, store.ErrInvalid):
		return "invalid", false
	}
	return "_OTHER", true
}
