package store

import (
	"context"
	"time"
)

// DPoPReplayStore remembers the DPoP proofs already used (RFC 9449 §11.1),
// for every instance at once.
type DPoPReplayStore interface {
	// UseDPoPProof records key (a digest naming one proof) until
	// expiresAt, if it is not recorded yet. fresh is false when it already
	// was: the proof is a replay. Insert-if-absent in one statement, so
	// two instances racing with one proof cannot both see it fresh.
	UseDPoPProof(ctx context.Context, key string, expiresAt time.Time) (fresh bool, err error)
	// DeleteExpiredDPoPProofs prunes entries that expired before t.
	DeleteExpiredDPoPProofs(ctx context.Context, before time.Time) (int64, error)
}
