package sqlite

import (
	"context"

	"github.com/keyward/keyward/store"
)

// Notify implements store.Events within this process: a SQLite file is
// served by one instance.
func (d *DB) Notify(ctx context.Context, channel, payload string) error {
	return d.events.Notify(ctx, channel, payload)
}

// Subscribe implements store.Events.
func (d *DB) Subscribe(channel string, fn func(string)) func() {
	return d.events.Subscribe(channel, fn)
}

var _ store.Events = (*DB)(nil)
