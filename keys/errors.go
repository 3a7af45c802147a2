package keys

import (
	"errors"
	"fmt"

	"github.com/keyward/keyward/store"
)

// ErrMalformed is returned by Parse for a string that is not an API key.
// Everything else comes from the store's one error family: ErrNotFound and
// ErrConflict from the engines, passed through by Service methods, and a
// *store.ValidationError (matching store.ErrInvalid) for bad parameters.
var ErrMalformed = errors.New("malformed api key")

// invalidf is a parameter problem, as a *store.ValidationError.
func invalidf(format string, a ...any) error {
	return store.Invalid(fmt.Sprintf(format, a...))
}
