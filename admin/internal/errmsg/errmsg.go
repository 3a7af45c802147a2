package errmsg

import (
	"strings"

	"github.com/keyward/keyward/store"
)

// Readable is an error message without the package prefix of a sentinel.
func Readable(err error) string {
	msg := err.Error()
	for _, p := range []string{store.ErrInvalid.Error() + ": ", "signing: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}
