package signing_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/clocktest"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store/postgres"
	"github.com/keyward/keyward/store/postgres/pgtest"
	"github.com/keyward/keyward/store/sqlite"
)

var testSecret = keys.Secret("0123456789abcdef0123456789abcdef-test-secret")

func ctx() context.Context { return context.Background() }

// newClock is a settable Config.Now.
func newClock() *clocktest.Clock { return clocktest.At(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) }

// auditLog is an Auditor that remembers event types by kid.
type auditLog struct {
	mu     sync.Mutex
	events []string
	data   []map[string]any
}

func (a *auditLog) Atomic(ctx context.Context, fn func(context.Context) error) error { return fn(ctx) }

func (a *auditLog) Record(_ context.Context, typ, subject string, data map[string]any) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, typ+" "+subject)
	a.data = append(a.data, data)
	return nil
}

// last returns the data of the latest event of type typ.
func (a *auditLog) last(typ string) map[string]any {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := len(a.events) - 1; i >= 0; i-- {
		if strings.HasPrefix(a.events[i], typ+" ") {
			return a.data[i]
		}
	}
	return nil
}

func (a *auditLog) count(typ string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, e := range a.events {
		if len(e) > len(typ) && e[:len(typ)+1] == typ+" " {
			n++
		}
	}
	return n
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openSQLite(t testing.TB) *sqlite.DB {
	t.Helper()
	return openSQLitePath(t, filepath.Join(t.TempDir(), "k.db"))
}

func openSQLitePath(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(ctx(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openPostgres(t testing.TB, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(ctx(), url, postgres.Config{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(ctx()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func pgURL(t testing.TB) string { return pgtest.Schema(t) }

// engine is what both engines give a Service.
type engine interface {
	signing.Store
	signing.Events
}

// newService returns a Service with the test clock and a quiet logger;
// cfg's zero fields take the defaults.
func newService(t testing.TB, st engine, cfg signing.Config) *signing.Service {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	s, err := signing.New(st, testSecret, st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func bootstrap(t testing.TB, s *signing.Service) {
	t.Helper()
	if err := s.Bootstrap(ctx()); err != nil {
		t.Fatal(err)
	}
}

// byState returns alg's keys in st.
func byState(t testing.TB, s *signing.Service, alg string, st signing.State) []*signing.Record {
	t.Helper()
	recs, err := s.List(ctx())
	if err != nil {
		t.Fatal(err)
	}
	var out []*signing.Record
	for _, r := range recs {
		if r.Alg == alg && r.State == st {
			out = append(out, r)
		}
	}
	return out
}
