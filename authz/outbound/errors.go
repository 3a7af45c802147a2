package outbound

import (
	"errors"
	"fmt"
)

// The errors a Fetcher returns, wrapped with the URL concerned; test them
// with errors.Is.
var (
	// ErrForbiddenAddress: the host resolved to (or is) an address the
	// guard refuses (see Forbidden).
	ErrForbiddenAddress = errors.New("outbound: address not allowed")
	// ErrForbiddenURL: not an absolute https URL (http too with
	// AllowPrivate), or one carrying user info.
	ErrForbiddenURL = errors.New("outbound: URL not allowed")
	// ErrTooLarge: the body is longer than Config.MaxBytes.
	ErrTooLarge = errors.New("outbound: response too large")
	// ErrTooManyRedirects: more than Config.MaxRedirects hops.
	ErrTooManyRedirects = errors.New("outbound: too many redirects")
	// ErrTimeout: the fetch took longer than Config.Timeout.
	ErrTimeout = errors.New("outbound: timed out")
	// ErrStatus: the final answer was not 200 (see StatusError).
	ErrStatus = errors.New("outbound: unexpected status")
	// ErrBadJSON: GetJSON could not decode the body.
	ErrBadJSON = errors.New("outbound: body is not the expected JSON")
)

// StatusError is a final answer other than 200 OK; it matches ErrStatus.
type StatusError struct {
	URL  string
	Code int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("outbound: GET %s answered %d", e.URL, e.Code)
}

// Is makes errors.Is(err, ErrStatus) true.
func (e *StatusError) Is(target error) bool { return target == ErrStatus }
