package storetrace

// The traced methods of store.AssertionStore.

import (
	"context"
	"time"
)

// UseAssertionJTI traces store.AssertionStore.UseAssertionJTI.
func (d *DB) UseAssertionJTI(ctx context.Context, clientID, jti string, expiresAt, now time.Time) (bool, error) {
	ctx, tr := d.start(ctx, "UseAssertionJTI")
	v, err := d.Inner.UseAssertionJTI(ctx, clientID, jti, expiresAt, now)
	return v, tr.end(err)
}

// DeleteExpiredAssertionJTIs traces store.AssertionStore.DeleteExpiredAssertionJTIs.
func (d *DB) DeleteExpiredAssertionJTIs(ctx context.Context, before time.Time) (int64, error) {
	ctx, tr := d.start(ctx, "DeleteExpiredAssertionJTIs")
	v, err := d.Inner.DeleteExpiredAssertionJTIs(ctx, before)
	return v, tr.end(err)
}
