package signing

import (
	"context"
	"errors"

	"github.com/keyward/keyward/keys"
)

// ErrWrongSecret means the store's private keys were sealed under another
// system secret.
var ErrWrongSecret = errors.New("signing: the keys were sealed with another system secret")

// CheckSecret reports whether secret opens the private keys in st: nil
// when one of the keys that still sign or verify opens, or when there are
// none (a new database); ErrWrongSecret when none of them opens. It reads
// the keys once and decrypts at most until one opens.
func CheckSecret(ctx context.Context, st Store, secret keys.Secret) error {
	recs, err := st.SigningKeys(ctx)
	if err != nil {
		return err
	}
	sl, err := newSealer(secret)
	if err != nil {
		return err
	}
	tried := false
	for _, r := range recs {
		if r.State == StateRetired || len(r.Sealed) == 0 {
			continue
		}
		tried = true
		if _, err := sl.open(r.KID, r.Alg, r.Sealed); err == nil {
			return nil
		}
	}
	if tried {
		return ErrWrongSecret
	}
	return nil
}
