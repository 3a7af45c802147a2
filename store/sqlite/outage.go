package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// unreachable reports whether err says the database could not be used
// right now rather than anything about the data: a lock still held when the
// busy timeout ran out (SQLITE_BUSY, SQLITE_LOCKED), an I/O error, a full
// disk, a file that cannot be opened, a deadline, or a closed handle (a
// request in flight while the server stops). mapErr wraps such errors with
// store.ErrUnavailable.
func unreachable(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff { // the primary result code of an extended one
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR,
			sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN:
			return true
		}
		return false
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sql.ErrConnDone) ||
		strings.Contains(err.Error(), errDBClosed)
}

// errDBClosed is database/sql's message for a closed *sql.DB (its error
// value is not exported).
const errDBClosed = "sql: database is closed"
