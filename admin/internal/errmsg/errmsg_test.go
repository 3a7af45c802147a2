package errmsg

import (
	"errors"
	"fmt"
	"testing"

	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
)

func TestReadable(t *testing.T) {
	for err, want := range map[error]string{
		fmt.Errorf("%w: negative expiry", store.ErrInvalid): "negative expiry",
		signing.ErrBadKey:               "not a usable private key",
		errors.New("something else: x"): "something else: x",
	} {
		if got := Readable(err); got != want {
			t.Errorf("Readable(%q) = %q, want %q", err, got, want)
		}
	}
}
