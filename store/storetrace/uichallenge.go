package storetrace

// The traced methods of store.UIChallengeStore.

import (
	"context"
	"time"

	"github.com/keyward/keyward/store"
)

// CreateUIChallenge traces store.UIChallengeStore.CreateUIChallenge.
func (d *DB) CreateUIChallenge(ctx context.Context, c *store.UIChallenge) error {
	ctx, tr := d.start(ctx, "CreateUIChallenge")
	return tr.end(d.Inner.CreateUIChallenge(ctx, c))
}

// GetUIChallenge traces store.UIChallengeStore.GetUIChallenge.
func (d *DB) GetUIChallenge(ctx context.Context, id string) (*store.UIChallenge, error) {
	ctx, tr := d.start(ctx, "GetUIChallenge")
	v, err := d.Inner.GetUIChallenge(ctx, id)
	return v, tr.end(err)
}

// DecideUIChallenge traces store.UIChallengeStore.DecideUIChallenge.
func (d *DB) DecideUIChallenge(ctx context.Context, id, verifierDigest, outcome string, at time.Time) error {
	ctx, tr := d.start(ctx, "DecideUIChallenge")
	return tr.end(d.Inner.DecideUIChallenge(ctx, id, verifierDigest, outcome, at))
}

// UseUIChallenge traces store.UIChallengeStore.UseUIChallenge.
func (d *DB) UseUIChallenge(ctx context.Context, verifierDigest string, at time.Time) (*store.UIChallenge, error) {
	ctx, tr := d.start(ctx, "UseUIChallenge")
	v, err := d.Inner.UseUIChallenge(ctx, verifierDigest, at)
	return v, tr.end(err)
}

// DeleteExpiredUIChallenges traces store.UIChallengeStore.DeleteExpiredUIChallenges.
func (d *DB) DeleteExpiredUIChallenges(ctx context.Context, before time.Time) (int64, error) {
	ctx, tr := d.start(ctx, "DeleteExpiredUIChallenges")
	v, err := d.Inner.DeleteExpiredUIChallenges(ctx, before)
	return v, tr.end(err)
}
