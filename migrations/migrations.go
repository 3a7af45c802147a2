// Package migrations embeds Keyward's forward-only SQL migrations, one
// directory per engine with the same numbered versions in each, and applies
// them with pressly/goose. On PostgreSQL a session advisory lock makes
// concurrent starts against one database safe.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

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

// Up applies every pending migration of engine e to db and returns the
// versions it applied.
func Up(ctx context.Context, e Engine, db *sql.DB) ([]int64, error) {
	p, err := newProvider(e, db)
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
	p, err := newProvider(e, db)
	if err != nil {
		return false, err
	}
	return p.HasPending(ctx)
}

func newProvider(e Engine, db *sql.DB) (*goose.Provider, error) {
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
			// Poll every second for up to 5 minutes while another instance migrates.
			lock.WithLockTimeout(1, 300),
		)
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	case SQLite:
		dialect = goose.DialectSQLite3
	default:
		return nil, fmt.Errorf("migrations: unknown engine %q", e)
	}
	return goose.NewProvider(dialect, db, fsys, opts...)
}
