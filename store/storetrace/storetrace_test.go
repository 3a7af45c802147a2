package storetrace_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/sqlite"
	"github.com/keyward/keyward/store/storetest"
	"github.com/keyward/keyward/store/storetrace"
)

// recorder returns a tracer provider whose spans rec keeps.
func recorder(t *testing.T) (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	return tp, rec
}

func openSQLite(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "keyward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// allowed are the only attributes a store span may carry: none of them
// is an argument, a record or a message.
var allowed = map[attribute.Key]bool{"db.system.name": true, "db.operation.name": true, "error.type": true}

func checkAttributes(t *testing.T, spans []sdktrace.ReadOnlySpan) {
	t.Helper()
	for _, s := range spans {
		for _, kv := range s.Attributes() {
			if !allowed[kv.Key] {
				t.Errorf("%s carries %s=%q; store spans carry no argument", s.Name(), kv.Key, kv.Value.Emit())
			}
		}
		switch d := s.Status().Description; d {
		case "", "unavailable", "timeout", "_OTHER":
		default:
			t.Errorf("%s status description %q is not a kind of failure", s.Name(), d)
		}
		if len(s.Events()) > 0 {
			t.Errorf("%s has events %v; store spans record no error message", s.Name(), s.Events())
		}
	}
}

// The decorator is transparent: the whole conformance suite passes
// through it, every call traced (Roots), the optional contracts found by
// type assertion (keys.RateCounter, store.SecretChecker) included.
func TestConformanceThroughDecorator(t *testing.T) {
	tp, rec := recorder(t)
	wrap := func(t *testing.T) *storetrace.DB {
		d := storetrace.Wrap(openSQLite(t), tp, storetrace.SQLite)
		d.Roots = true
		return d
	}
	// A group waits for the suite's parallel tests.
	t.Run("suite", func(t *testing.T) {
		suite(t, tp, wrap)
	})
	spans := rec.Ended()
	if len(spans) < 100 {
		t.Fatalf("%d spans recorded over the conformance suite; want one per call", len(spans))
	}
	checkAttributes(t, spans)
}

func suite(t *testing.T, tp trace.TracerProvider, wrap func(t *testing.T) *storetrace.DB) {
	storetest.Run(t, func(t *testing.T) store.Store { return wrap(t) }, func(t *testing.T) func() store.Store {
		path := filepath.Join(t.TempDir(), "keyward.db")
		return func() store.Store {
			db, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if err := db.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			d := storetrace.Wrap(db, tp, storetrace.SQLite)
			d.Roots = true
			return d
		}
	})
	storetest.RunAPIKeys(t, func(t *testing.T) keys.Store { return wrap(t) })
	storetest.RunSigningKeys(t, func(t *testing.T) signing.Store { return wrap(t) })
}

// A call within a trace is a child span named after the method, with
// the engine, the method and the kind of a failure; an answer such as
// "not found" is not a fault, an unusable database is. A call outside
// any trace starts no span.
func TestSpans(t *testing.T) {
	tp, rec := recorder(t)
	db := openSQLite(t)
	d := storetrace.Wrap(db, tp, storetrace.SQLite)

	if _, err := d.GetClient(context.Background(), "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetClient outside a trace: %v", err)
	}
	if n := len(rec.Started()); n != 0 {
		t.Fatalf("a call outside any trace started %d spans", n)
	}

	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	if _, err := d.GetClient(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetClient: %v", err)
	}
	if err := d.CreateClient(ctx, &store.Client{ID: "c1", Name: "one", SecretDigest: []byte("digest")}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.GetClient(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := d.GetClient(ctx, "c1"); err == nil {
		t.Fatal("GetClient on a closed database succeeded")
	}
	parent.End()

	spans := rec.Ended()
	var got []string
	for _, s := range spans {
		if s.Name() == "request" {
			continue
		}
		if s.Parent().SpanID() != parent.SpanContext().SpanID() || s.SpanContext().TraceID() != parent.SpanContext().TraceID() {
			t.Errorf("%s is not a child of the caller's span", s.Name())
		}
		if s.SpanKind() != trace.SpanKindClient {
			t.Errorf("%s kind %v, want client", s.Name(), s.SpanKind())
		}
		attrs := map[attribute.Key]string{}
		for _, kv := range s.Attributes() {
			attrs[kv.Key] = kv.Value.Emit()
		}
		got = append(got, s.Name()+" "+attrs["error.type"]+" "+s.Status().Code.String())
		if attrs["db.system.name"] != "sqlite" || attrs["db.operation.name"] != strings.TrimPrefix(s.Name(), "store.") {
			t.Errorf("%s attributes %v", s.Name(), attrs)
		}
	}
	want := []string{
		"store.GetClient not_found Unset",
		"store.CreateClient  Unset",
		"store.GetClient  Unset",
		"store.GetClient unavailable Error",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("spans:\n got %q\nwant %q", got, want)
	}
	checkAttributes(t, spans)
	for _, s := range spans {
		if s.Status().Code == codes.Error && strings.Contains(s.Status().Description, "closed") {
			t.Errorf("%s status holds the error message %q", s.Name(), s.Status().Description)
		}
	}
}

// untraced are the methods of Inner that are not calls to the database.
var untraced = map[string]bool{"Subscribe": true, "Close": true, "AfterCommit": true}

// Every method of Inner is traced by DB, not passed through untraced by
// embedding: a method added to a store contract fails here until it has
// its span (add it to core.go, keys.go or signing.go).
func TestEveryMethodTraced(t *testing.T) {
	tp, rec := recorder(t)
	d := storetrace.Wrap(nil, tp, storetrace.SQLite) // every call into the engine panics
	ctx, parent := tp.Tracer("test").Start(context.Background(), "request")
	defer parent.End()
	iface := reflect.TypeOf((*storetrace.Inner)(nil)).Elem()
	v := reflect.ValueOf(d)
	for i := 0; i < iface.NumMethod(); i++ {
		m := iface.Method(i)
		if untraced[m.Name] {
			continue
		}
		before := len(rec.Started())
		func() {
			defer func() { recover() }()
			fn := v.MethodByName(m.Name)
			args := make([]reflect.Value, fn.Type().NumIn())
			for j := range args {
				if fn.Type().In(j) == reflect.TypeOf((*context.Context)(nil)).Elem() {
					args[j] = reflect.ValueOf(ctx)
				} else {
					args[j] = reflect.Zero(fn.Type().In(j))
				}
			}
			fn.Call(args)
		}()
		started := rec.Started()
		if len(started) != before+1 || started[len(started)-1].Name() != "store."+m.Name {
			t.Errorf("%s is not traced: add it to store/storetrace", m.Name)
		}
	}
}

// BenchmarkGetClient reads one client from SQLite: from the engine, and
// through the decorator outside a trace (a background job) and within one.
func BenchmarkGetClient(b *testing.B) {
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "keyward.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	if err := db.CreateClient(context.Background(), &store.Client{ID: "c1", Name: "one", SecretDigest: []byte("d")}); err != nil {
		b.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewNoopExporter()))
	defer tp.Shutdown(context.Background())
	traced := storetrace.Wrap(db, tp, storetrace.SQLite)
	inTrace, span := tp.Tracer("bench").Start(context.Background(), "request")
	defer span.End()
	for _, bc := range []struct {
		name string
		s    store.ClientStore
		ctx  context.Context
	}{
		{"engine", db, context.Background()},
		{"decorator-outside-trace", traced, context.Background()},
		{"decorator-in-trace", traced, inTrace},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.s.GetClient(bc.ctx, "c1"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
