package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"
)

// unreachable reports whether err says the database could not be reached
// or did not answer in time, rather than anything about the data: a failed
// connection attempt, a lost or closed connection, a timeout or deadline
// (including waiting for a pooled connection), a closed pool, or a server
// that is shutting down, starting up or out of connection slots.
// mapErr wraps such errors with store.ErrUnavailable.
func unreachable(err error) bool {
	var (
		ce *pgconn.ConnectError
		ne net.Error
		pe *pgconn.PgError
	)
	switch {
	case errors.As(err, &pe):
		return unavailableCode(pe.Code)
	case errors.As(err, &ce), errors.As(err, &ne),
		pgconn.Timeout(err), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, pgconn.ErrConnClosed), errors.Is(err, puddle.ErrClosedPool):
		return true
	}
	return false
}

// unavailableCode reports whether a server error's SQLSTATE is about the
// server or the connection, not the statement: class 08 (connection
// exception), 57P01 admin_shutdown ("terminating connection due to
// administrator command", "the database system is shutting down"), 57P02
// crash_shutdown, 57P03 cannot_connect_now (starting up, in recovery),
// 57P05 idle_session_timeout, 53300 too_many_connections and 58030
// io_error.
func unavailableCode(code string) bool {
	switch code {
	case "57P01", "57P02", "57P03", "57P05", "53300", "58030":
		return true
	}
	return strings.HasPrefix(code, "08")
}
