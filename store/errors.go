package store

import (
	"errors"
	"strings"
)

// The one family of sentinel errors that every layer returns and checks:
// the engines, the domain services (keys, keys/signing, authz/clients,
// authz/accounts) and both surfaces that answer them (the protocol
// endpoints and the admin API). Wrap them with %w to add detail.
var (
	// ErrNotFound: the requested record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: a write would break a uniqueness rule (a taken id,
	// username or digest) or acts on a record in a state that forbids it
	// (rolling a revoked API key).
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the caller's parameters fail validation. A
	// *ValidationError matches it and lists every problem.
	ErrInvalid = errors.New("invalid")
	// ErrUnavailable: the database could not be reached or did not answer
	// in time (a refused or lost connection, a timeout, a server shutting
	// down, a lock held beyond the busy timeout, an I/O error). The answer
	// is unknown, not negative: the surfaces answer 503 with Retry-After,
	// never "not found" or "invalid" (DESIGN.md). The engine's own error
	// is wrapped beside it, for the log.
	ErrUnavailable = errors.New("database unavailable")
)

// ValidationError reports every problem of a create or update request at
// once; it matches ErrInvalid. The CLI prints the problems, the admin API
// answers 422 with them.
type ValidationError struct{ Problems []string }

// Invalid returns a *ValidationError with one problem.
func Invalid(problem string) *ValidationError { return &ValidationError{Problems: []string{problem}} }

func (e *ValidationError) Error() string { return strings.Join(e.Problems, "; ") }

// Is reports whether target is ErrInvalid.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }
