package storetrace

// The traced methods of store.DeviceStore.

import (
	"context"
	"time"

	"github.com/keyward/keyward/store"
)

// CreateDeviceGrant traces store.DeviceStore.CreateDeviceGrant.
func (d *DB) CreateDeviceGrant(ctx context.Context, g *store.DeviceGrant) error {
	ctx, tr := d.start(ctx, "CreateDeviceGrant")
	return tr.end(d.Inner.CreateDeviceGrant(ctx, g))
}

// GetDeviceGrant traces store.DeviceStore.GetDeviceGrant.
func (d *DB) GetDeviceGrant(ctx context.Context, deviceCodeDigest string) (*store.DeviceGrant, error) {
	ctx, tr := d.start(ctx, "GetDeviceGrant")
	v, err := d.Inner.GetDeviceGrant(ctx, deviceCodeDigest)
	return v, tr.end(err)
}

// GetDeviceGrantByUserCode traces store.DeviceStore.GetDeviceGrantByUserCode.
func (d *DB) GetDeviceGrantByUserCode(ctx context.Context, userCodeDigest string) (*store.DeviceGrant, error) {
	ctx, tr := d.start(ctx, "GetDeviceGrantByUserCode")
	v, err := d.Inner.GetDeviceGrantByUserCode(ctx, userCodeDigest)
	return v, tr.end(err)
}

// PollDeviceGrant traces store.DeviceStore.PollDeviceGrant.
func (d *DB) PollDeviceGrant(ctx context.Context, deviceCodeDigest string, at time.Time, slack time.Duration) (*store.DeviceGrant, bool, error) {
	ctx, tr := d.start(ctx, "PollDeviceGrant")
	g, slowDown, err := d.Inner.PollDeviceGrant(ctx, deviceCodeDigest, at, slack)
	return g, slowDown, tr.end(err)
}

// DecideDeviceGrant traces store.DeviceStore.DecideDeviceGrant.
func (d *DB) DecideDeviceGrant(ctx context.Context, userCodeDigest string, dec store.DeviceDecision) error {
	ctx, tr := d.start(ctx, "DecideDeviceGrant")
	return tr.end(d.Inner.DecideDeviceGrant(ctx, userCodeDigest, dec))
}

// RedeemDeviceGrant traces store.DeviceStore.RedeemDeviceGrant.
func (d *DB) RedeemDeviceGrant(ctx context.Context, deviceCodeDigest string, at time.Time) error {
	ctx, tr := d.start(ctx, "RedeemDeviceGrant")
	return tr.end(d.Inner.RedeemDeviceGrant(ctx, deviceCodeDigest, at))
}

// DeleteExpiredDeviceGrants traces store.DeviceStore.DeleteExpiredDeviceGrants.
func (d *DB) DeleteExpiredDeviceGrants(ctx context.Context, before time.Time) (int64, error) {
	ctx, tr := d.start(ctx, "DeleteExpiredDeviceGrants")
	v, err := d.Inner.DeleteExpiredDeviceGrants(ctx, before)
	return v, tr.end(err)
}
