package storetrace

// The traced methods of store.BackchannelStore.

import (
	"context"
	"time"

	"github.com/keyward/keyward/store"
)

// AddSessionClient traces store.BackchannelStore.AddSessionClient.
func (d *DB) AddSessionClient(ctx context.Context, c *store.SessionClient) error {
	ctx, tr := d.start(ctx, "AddSessionClient")
	return tr.end(d.Inner.AddSessionClient(ctx, c))
}

// SessionClients traces store.BackchannelStore.SessionClients.
func (d *DB) SessionClients(ctx context.Context, sessionID string) ([]*store.SessionClient, error) {
	ctx, tr := d.start(ctx, "SessionClients")
	v, err := d.Inner.SessionClients(ctx, sessionID)
	return v, tr.end(err)
}

// UserSessionClients traces store.BackchannelStore.UserSessionClients.
func (d *DB) UserSessionClients(ctx context.Context, userID string) ([]*store.SessionClient, error) {
	ctx, tr := d.start(ctx, "UserSessionClients")
	v, err := d.Inner.UserSessionClients(ctx, userID)
	return v, tr.end(err)
}

// DeleteUserBrowserSessions traces store.BackchannelStore.DeleteUserBrowserSessions.
func (d *DB) DeleteUserBrowserSessions(ctx context.Context, userID string) (int, error) {
	ctx, tr := d.start(ctx, "DeleteUserBrowserSessions")
	n, err := d.Inner.DeleteUserBrowserSessions(ctx, userID)
	return n, tr.end(err)
}

// QueueLogouts traces store.BackchannelStore.QueueLogouts.
func (d *DB) QueueLogouts(ctx context.Context, ds []*store.LogoutDelivery) error {
	ctx, tr := d.start(ctx, "QueueLogouts")
	return tr.end(d.Inner.QueueLogouts(ctx, ds))
}

// LeaseLogouts traces store.BackchannelStore.LeaseLogouts.
func (d *DB) LeaseLogouts(ctx context.Context, owner string, now, until time.Time, limit int) ([]*store.LogoutDelivery, error) {
	ctx, tr := d.start(ctx, "LeaseLogouts")
	v, err := d.Inner.LeaseLogouts(ctx, owner, now, until, limit)
	return v, tr.end(err)
}

// RecordLogoutAttempt traces store.BackchannelStore.RecordLogoutAttempt.
func (d *DB) RecordLogoutAttempt(ctx context.Context, id int64, owner string, at time.Time, status int, errText string, r store.AttemptResult) error {
	ctx, tr := d.start(ctx, "RecordLogoutAttempt")
	return tr.end(d.Inner.RecordLogoutAttempt(ctx, id, owner, at, status, errText, r))
}

// GetLogoutDelivery traces store.BackchannelStore.GetLogoutDelivery.
func (d *DB) GetLogoutDelivery(ctx context.Context, id int64) (*store.LogoutDelivery, error) {
	ctx, tr := d.start(ctx, "GetLogoutDelivery")
	v, err := d.Inner.GetLogoutDelivery(ctx, id)
	return v, tr.end(err)
}

// ClientLogouts traces store.BackchannelStore.ClientLogouts.
func (d *DB) ClientLogouts(ctx context.Context, clientID string, limit int) ([]*store.LogoutDelivery, error) {
	ctx, tr := d.start(ctx, "ClientLogouts")
	v, err := d.Inner.ClientLogouts(ctx, clientID, limit)
	return v, tr.end(err)
}

// PruneLogouts traces store.BackchannelStore.PruneLogouts.
func (d *DB) PruneLogouts(ctx context.Context, before time.Time) (int, error) {
	ctx, tr := d.start(ctx, "PruneLogouts")
	n, err := d.Inner.PruneLogouts(ctx, before)
	return n, tr.end(err)
}
