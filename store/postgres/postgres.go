// Package postgres is Keyward's PostgreSQL store through pgx v5 (pgxpool).
// It implements store.Store, keys.Store and signing.Store, and carries
// cross-instance cache invalidation over LISTEN/NOTIFY (see Listen).
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/keyward/keyward/migrations"
	"github.com/keyward/keyward/store"
)

// DB is an open PostgreSQL store.
type DB struct {
	pool *pgxpool.Pool

	listenOnce sync.Once
	listen     *listener
	// ns scopes notification channels to the schema, so deployments (and
	// tests) in other schemas of the same database do not hear each other.
	ns string
	// Now returns the current time; tests replace it.
	Now func() time.Time
	// Logger receives the listener's warnings (nil: discarded). Set it
	// before the first Subscribe.
	Logger *slog.Logger
}

// log is the injected logger, or one that discards.
func (d *DB) log() *slog.Logger {
	if d.Logger == nil {
		return discard
	}
	return d.Logger
}

var discard = slog.New(slog.DiscardHandler)

var _ store.Store = (*DB)(nil)

// Config tunes the connection pool. Zero values take the defaults.
type Config struct {
	// MaxConns caps the pool (default: max(4, 2×GOMAXPROCS) as pgxpool does,
	// but at least 8 so a LISTEN connection never starves requests).
	MaxConns int32
	// SearchPath, when set, is the schema search path of every connection
	// (tests use a fresh schema each).
	SearchPath string
}

// Open connects to the database at url and checks that it answers. It
// does not migrate; call Migrate.
func Open(ctx context.Context, url string, cfg Config) (*DB, error) {
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: bad database URL: %w", redactErr(err))
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	} else if pc.MaxConns < 8 {
		pc.MaxConns = 8
	}
	if cfg.SearchPath != "" {
		pc.ConnConfig.RuntimeParams["search_path"] = cfg.SearchPath
	}
	pc.ConnConfig.RuntimeParams["application_name"] = "keyward"
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", redactErr(err))
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: database unreachable: %w", redactErr(err))
	}
	d := &DB{pool: pool, Now: time.Now}
	if sp := pc.ConnConfig.RuntimeParams["search_path"]; sp != "" {
		if first, _, _ := strings.Cut(sp, ","); strings.TrimSpace(first) != "public" {
			d.ns = strings.Trim(strings.TrimSpace(first), `"`)
		}
	}
	return d, nil
}

// Migrate applies pending migrations under a session advisory lock, so
// instances starting together apply each migration once.
func (d *DB) Migrate(ctx context.Context) error {
	db := stdlib.OpenDBFromPool(d.pool)
	defer db.Close()
	_, err := migrations.Up(ctx, migrations.Postgres, db)
	return err
}

// Pending reports whether a migration has not been applied yet.
func (d *DB) Pending(ctx context.Context) (bool, error) {
	db := stdlib.OpenDBFromPool(d.pool)
	defer db.Close()
	return migrations.Pending(ctx, migrations.Postgres, db)
}

// SQL returns a database/sql handle over the pool; close it after use.
func (d *DB) SQL() *sql.DB { return stdlib.OpenDBFromPool(d.pool) }

// Pool returns the underlying pgx pool.
func (d *DB) Pool() *pgxpool.Pool { return d.pool }

// Ping reports whether the database answers.
func (d *DB) Ping(ctx context.Context) error { return d.pool.Ping(ctx) }

// Close closes the pool.
func (d *DB) Close() error {
	if d.listen != nil {
		d.listen.stop()
	}
	d.pool.Close()
	return nil
}

func (d *DB) now() time.Time { return store.Truncate(d.Now()) }

// mapErr turns driver errors into the store's sentinel errors: a missing
// row is store.ErrNotFound, a unique violation store.ErrConflict, and an
// unreachable or unresponsive database store.ErrUnavailable (wrapping the
// driver's error, for the log).
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	if unreachable(err) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%w: %s", store.ErrConflict, pe.ConstraintName)
		case "23503": // foreign_key_violation
			return fmt.Errorf("%w: referenced record missing", store.ErrNotFound)
		}
	}
	return err
}

// affected returns store.ErrNotFound when a write touched no row.
func affected(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return mapErr(err)
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// redactErr keeps a connection error's message but never a password: pgx
// messages do not include it, but a parse error may echo the URL.
func redactErr(err error) error {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		return errors.New("cannot parse database URL")
	}
	return err
}
