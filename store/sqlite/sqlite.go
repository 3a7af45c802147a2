// Package sqlite is Keyward's embedded default store: a single SQLite file
// through modernc.org/sqlite (pure Go, no cgo), in WAL mode. It implements
// store.Store, keys.Store and signing.Store.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/keyward/keyward/migrations"
	"github.com/keyward/keyward/store"
)

// DB is an open SQLite store.
type DB struct {
	db     *sql.DB
	path   string
	events store.LocalEvents
	origin string // tags this handle's rows in the events table

	watchOnce sync.Once
	stopWatch context.CancelFunc
	watchDone chan struct{}
	// Now returns the current time; tests replace it.
	Now func() time.Time
	// Logger receives the change watcher's warnings (nil: discarded).
	// Set it before the first Subscribe.
	Logger *slog.Logger

	prepared preparedStmts
	// prunedAt is when Notify last pruned the events table (Unix
	// microseconds).
	prunedAt atomic.Int64
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

// Open opens (creating if needed) the database file at path. It does not
// migrate; call Migrate.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
	}
	// The file holds digests and encrypted keys: owner-only, like the secret.
	if f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600); err == nil {
		f.Close()
	}
	q := url.Values{}
	// cache_size: each connection's page cache is at most 512 KiB (SQLite's
	// default is 2 MiB), 4 MiB for the 8 connections. It is memory outside
	// the Go heap, so outside serve's memory limit: with the default, a
	// tour of 100,000 API keys and 200,000 tokens took the server to
	// 149 MiB, 22 MiB of it page caches; with 512 KiB it peaked at
	// 116–129 MiB, as fast. The kernel's page cache holds the file anyway.
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)",
		"cache_size(-512)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := ping(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return &DB{db: db, path: path, origin: newOrigin(), Now: time.Now}, nil
}

// ping opens the first connection. On a fresh file that connection switches
// the journal to WAL, and a process doing the same at that moment gets
// SQLITE_BUSY at once: SQLite does not wait where waiting could deadlock.
// So a busy first connection is retried for up to the busy timeout.
func ping(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := db.PingContext(ctx)
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Migrate applies pending migrations. Processes migrating one file at once
// take turns through a lock on the file "<path>.migrate-lock" beside it.
func (d *DB) Migrate(ctx context.Context) error {
	_, err := migrations.Up(ctx, migrations.SQLite, d.db, migrations.WithLockFile(d.path+".migrate-lock"))
	return err
}

// Pending reports whether a migration has not been applied yet.
func (d *DB) Pending(ctx context.Context) (bool, error) {
	return migrations.Pending(ctx, migrations.SQLite, d.db)
}

// SQL returns the underlying database handle.
func (d *DB) SQL() *sql.DB { return d.db }

// Ping reports whether the database answers.
func (d *DB) Ping(ctx context.Context) error { return d.db.PingContext(ctx) }

// Close stops the change watcher and closes the database.
func (d *DB) Close() error {
	if d.stopWatch != nil {
		d.stopWatch()
		<-d.watchDone
	}
	d.prepared.close()
	return d.db.Close()
}

func (d *DB) now() time.Time { return store.Truncate(d.Now()) }

// mapErr turns driver errors into the store's sentinel errors: a missing
// row is store.ErrNotFound, a unique violation store.ErrConflict, and a
// database that cannot be used right now store.ErrUnavailable (wrapping
// the driver's error, for the log).
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	if unreachable(err) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return fmt.Errorf("%w: %s", store.ErrConflict, constraintName(se.Error()))
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%w: referenced record missing", store.ErrNotFound)
		}
	}
	return err
}

func constraintName(msg string) string {
	if i := strings.LastIndex(msg, "constraint failed: "); i >= 0 {
		return msg[i+len("constraint failed: "):]
	}
	return "duplicate"
}

// affected returns store.ErrNotFound when a write touched no row.
func affected(res sql.Result, err error) error {
	if err != nil {
		return mapErr(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}
