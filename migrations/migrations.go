// Package migrations embeds Keyward's forward-only SQL migrations, one
// directory per engine with the same numbered versions in each, and applies
// them with pressly/goose. Concurrent starts against one database are
// safe: on PostgreSQL through a session advisory lock, on SQLite through a
// lock on a sidecar file (WithLockFile).
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// Engine names a database engine with its own migration directory.
type Engine string

// The supported engines.
const (
	Postgres Engine = "postgres"
	SQLite   Engine = "sqlite"
)

// FS returns the migration files of one engine.
func FS(e Engine) (fs.FS, error) {
	return fs.Sub(files, string(e))
}

// Option configures Up.
type Option func(*options)

type options struct {
	lockFile string
}

// WithLockFile makes Up on SQLite hold a lock on the file at path (created
// if needed, conventionally "<database>.migrate-lock") while it migrates,
// so processes that migrate one SQLite database at once take turns instead
// of applying a version twice. PostgreSQL ignores it.
func WithLockFile(path string) Option {
	return func(o *options) { o.lockFile = path }
}

// Up applies every pending migration of engine e to db and returns the
// versions it applied. It waits up to 5 minutes for another process's
// migration.
func Up(ctx context.Context, e Engine, db *sql.DB, opts ...Option) ([]int64, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	p, err := newProvider(e, db, o)
	if err != nil {
		return nil, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate %s: %w", e, err)
	}
	applied := make([]int64, 0, len(results))
	for _, r := range results {
		applied = append(applied, r.Source.Version)
	}
	return applied, nil
}

// Pending reports whether db lacks any migration of engine e.
func Pending(ctx context.Context, e Engine, db *sql.DB) (bool, error) {
	p, err := newProvider(e, db, options{})
	if err != nil {
		return false, err
	}
	return p.HasPending(ctx)
}

func newProvider(e Engine, db *sql.DB, o options) (*goose.Provider, error) {
	fsys, err := FS(e)
	if err != nil {
		return nil, err
	}
	var dialect goose.Dialect
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	switch e {
	case Postgres:
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker(
			// Poll every second for up to lockWait while another instance migrates.
			lock.WithLockTimeout(1, uint64(lockWait/time.Second)),
		)
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	case SQLite:
		dialect = goose.DialectSQLite3
		if o.lockFile != "" {
			opts = append(opts, goose.WithLocker(&fileLock{path: o.lockFile}))
		}
	default:
		return nil, fmt.Errorf("migrations: unknown engine %q", e)
	}
	return goose.NewProvider(dialect, db, fsys, opts...)
}
