package sqlite

import (
	"context"
	"log/slog"
	"time"

	"github.com/keyward/keyward/store"
)

// Notify implements store.Events within this process.
func (d *DB) Notify(ctx context.Context, channel, payload string) error {
	return d.events.Notify(ctx, channel, payload)
}

// Subscribe implements store.Events. A SQLite file may also be changed by
// another process (a management command next to a running server): the
// first subscription starts a watcher that polls PRAGMA data_version every
// PollInterval on a connection of its own and, when another connection
// committed, sends store.Resync to every subscriber.
func (d *DB) Subscribe(channel string, fn func(string)) func() {
	cancel := d.events.Subscribe(channel, fn)
	d.watchOnce.Do(func() {
		ctx, stop := context.WithCancel(context.Background())
		d.stopWatch = stop
		d.watchDone = make(chan struct{})
		go d.watch(ctx)
	})
	return cancel
}

var _ store.Events = (*DB)(nil)

// PollInterval is how often the watcher looks for commits by other
// connections.
const PollInterval = time.Second

func (d *DB) watch(ctx context.Context) {
	defer close(d.watchDone)
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return
	}
	defer conn.Close()
	version := func() (int64, error) {
		var v int64
		err := conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v)
		return v, err
	}
	last, err := version()
	if err != nil {
		return
	}
	t := time.NewTicker(PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		v, err := version()
		if err != nil {
			if ctx.Err() == nil {
				slog.Warn("sqlite change watcher", "err", err)
			}
			continue
		}
		if v != last {
			last = v
			for _, ch := range d.events.Channels() {
				d.events.Dispatch(ch, store.Resync)
			}
		}
	}
}
