package store

import "context"

// SecretChecker remembers which system secret a database belongs to, so
// that a process started with another secret is refused at once instead of
// writing digests and sealed keys that the others cannot read.
type SecretChecker interface {
	// CheckSecretFingerprint records fp when the database holds none yet
	// and returns ErrConflict when it holds a different one. fp is a keyed
	// digest of the secret, never the secret.
	CheckSecretFingerprint(ctx context.Context, fp []byte) error
}
