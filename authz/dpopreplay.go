package authz

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"github.com/keyward/keyward/store"
)

// dpopReplay refuses a DPoP proof seen before (RFC 9449 §11.1): its key
// and jti are recorded in the store, which every instance shares, until
// the proof's iat window has passed (a later replay fails the iat check
// anyway). A small in-process set in front answers a replay to this
// instance without a database call; a fresh proof always costs one
// insert.
type dpopReplay struct {
	store store.DPoPReplayStore
	now   func() time.Time

	mu   sync.Mutex
	seen map[string]time.Time // key → expiry
}

// dpopReplayLocalMax bounds the in-process set.
const dpopReplayLocalMax = 10000

func newDPoPReplay(s store.DPoPReplayStore, now func() time.Time) *dpopReplay {
	return &dpopReplay{store: s, now: now, seen: map[string]time.Time{}}
}

// use records the proof with key thumbprint jkt and jti until expires:
// false when it was recorded already (a replay), the store's error when
// it cannot tell.
func (d *dpopReplay) use(ctx context.Context, jkt, jti string, expires time.Time) (bool, error) {
	sum := sha256.Sum256([]byte(jkt + "\x00" + jti))
	key := hex.EncodeToString(sum[:])
	now := d.now()
	d.mu.Lock()
	if exp, ok := d.seen[key]; ok && exp.After(now) {
		d.mu.Unlock()
		return false, nil
	}
	d.mu.Unlock()
	fresh, err := d.store.UseDPoPProof(ctx, key, expires)
	if err != nil {
		return false, err
	}
	d.mu.Lock()
	if len(d.seen) >= dpopReplayLocalMax {
		d.pruneLocked(now)
	}
	if len(d.seen) < dpopReplayLocalMax {
		d.seen[key] = expires
	}
	d.mu.Unlock()
	return fresh, nil
}

// prune drops expired entries of the in-process set.
func (d *dpopReplay) prune() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pruneLocked(d.now())
}

func (d *dpopReplay) pruneLocked(now time.Time) {
	for k, exp := range d.seen {
		if !exp.After(now) {
			delete(d.seen, k)
		}
	}
}
