package migrations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// lockWait is how long Up waits for another process's migration, on
// either engine.
const lockWait = 5 * time.Minute

// lockPoll is how often a waiting SQLite migration tries the lock again.
const lockPoll = 25 * time.Millisecond

// fileLock is a goose lock.Locker that serializes SQLite migrations across
// processes: while goose migrates it holds a write transaction (BEGIN
// IMMEDIATE) on a small sidecar SQLite file. SQLite's own file locks make
// it portable (POSIX and Windows), and a crashed holder's lock ends with its
// process. The migrated database cannot carry the lock itself: goose
// migrates through other connections to it, which the lock would block.
type fileLock struct {
	path string
	db   *sql.DB
	conn *sql.Conn
}

// Lock waits up to lockWait (or ctx) for the lock.
func (l *fileLock) Lock(ctx context.Context, _ *sql.DB) error {
	if f, err := os.OpenFile(l.path, os.O_RDONLY|os.O_CREATE, 0o600); err == nil {
		f.Close() // owner-only, like the database beside it
	}
	// No busy_timeout: SQLite's busy handler may sleep whole seconds, so
	// this polls on its own.
	db, err := sql.Open("sqlite", "file:"+l.path)
	if err != nil {
		return fmt.Errorf("migration lock %s: %w", l.path, err)
	}
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(ctx, lockWait)
	defer cancel()
	conn, err := db.Conn(ctx)
	for err == nil {
		if _, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err == nil {
			l.db, l.conn = db, conn
			return nil
		}
		if busy(err) {
			select {
			case <-ctx.Done():
			case <-time.After(lockPoll):
				err = nil // try again
			}
		}
	}
	if conn != nil {
		conn.Close()
	}
	db.Close()
	if ctx.Err() != nil {
		err = fmt.Errorf("another process is still migrating: %w", ctx.Err())
	}
	return fmt.Errorf("migration lock %s: %w", l.path, err)
}

// Unlock releases the lock.
func (l *fileLock) Unlock(ctx context.Context, _ *sql.DB) error {
	if l.conn == nil {
		return nil
	}
	_, err := l.conn.ExecContext(ctx, "ROLLBACK")
	err = errors.Join(err, l.conn.Close(), l.db.Close())
	l.db, l.conn = nil, nil
	return err
}

func busy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}
