package main

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/store"
)

// cliError is a failure with the message a person can act on, still
// matching the domain error it came from (so errorCode can name it).
type cliError struct {
	msg string
	err error
}

func (e cliError) Error() string { return e.msg }
func (e cliError) Unwrap() error { return e.err }

// problemsError prints a validation error's problems one per line.
type problemsError struct{ ve *store.ValidationError }

func (e problemsError) Error() string { return strings.Join(e.ve.Problems, "\n") }
func (e problemsError) Unwrap() error { return e.ve }

// cliErr turns domain errors into messages a person can act on; bad
// settings are usage errors (exit 2).
func cliErr(err error) error {
	var ve *store.ValidationError
	switch {
	case errors.As(err, &ve):
		return usageError{problemsError{ve}}
	case errors.Is(err, store.ErrNotFound):
		return cliError{"not found", err}
	case errors.Is(err, accounts.ErrLastAdmin):
		return cliError{strings.TrimPrefix(err.Error(), store.ErrConflict.Error()+": "), err}
	case errors.Is(err, store.ErrConflict):
		return cliError{"already exists", err}
	}
	return err
}

// errorCode names the kind of failure in the JSON error (--format json):
// invalid, not_found, conflict, unavailable and usage (exit 2 for these
// two, and for invalid), else error.
func errorCode(err error) string {
	switch {
	case errors.Is(err, store.ErrInvalid):
		return "invalid"
	case errors.Is(err, store.ErrNotFound):
		return "not_found"
	case errors.Is(err, store.ErrConflict):
		return "conflict"
	case errors.Is(err, store.ErrUnavailable):
		return "unavailable"
	}
	var ue usageError
	if errors.As(err, &ue) {
		return "usage"
	}
	return "error"
}

// jsonError is what --format json writes to standard error on failure.
type jsonError struct {
	Error jsonErrorBody `json:"error"`
}

type jsonErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Problems lists each problem of an invalid request or setting.
	Problems []string `json:"problems,omitempty"`
}

// emitError writes err as a jsonError to standard error.
func (m *Main) emitError(err error) {
	body := jsonErrorBody{Code: errorCode(err), Message: err.Error()}
	if ps := flatten(err, nil); len(ps) > 1 {
		for _, p := range ps {
			body.Problems = append(body.Problems, p.Error())
		}
	}
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		body.Problems = ve.Problems
	}
	enc := json.NewEncoder(m.Stderr)
	_ = enc.Encode(jsonError{body})
}

// wantsJSON reports whether args ask for --format json, for errors met
// before the flags were parsed.
func wantsJSON(args []string) bool {
	for i, a := range args {
		if a == "--" {
			return false
		}
		if a == "--format=json" || a == "--format" && i+1 < len(args) && args[i+1] == "json" {
			return true
		}
	}
	return false
}
