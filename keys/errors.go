package keys

import "errors"

// Sentinel errors. Store engines return ErrNotFound and ErrConflict (possibly
// wrapped) from every API-key method; Service methods pass them through.
var (
	// ErrNotFound is returned when no API key has the requested id.
	ErrNotFound = errors.New("api key not found")
	// ErrConflict is returned when a write would break a uniqueness rule (a
	// duplicate id or digest) or acts on a revoked key (Roll).
	ErrConflict = errors.New("api key conflict")
	// ErrInvalid is returned (wrapped, with the reason) for parameters that
	// fail validation: an empty name, a bad scope, a negative grace period…
	ErrInvalid = errors.New("invalid api key parameters")
	// ErrMalformed is returned by Parse for a string that is not an API key.
	ErrMalformed = errors.New("malformed api key")
)
