package errmsg

import (
	"strings"

	"github.com/keyward/keyward/keys"
)

// Readable is an error message without the package prefix of a sentinel.
func Readable(err error) string {
	msg := err.Error()
	for _, p := range []string{keys.ErrInvalid.Error() + ": ", "signing: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}
