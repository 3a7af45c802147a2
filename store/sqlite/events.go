package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"time"

	"github.com/keyward/keyward/store"
)

// Notify implements store.Events: subscribers in this process get payload
// at once, and it is appended to the events table for the other processes
// sharing the file (a management command beside a running server), whose
// watchers dispatch it within PollInterval.
//
// Inside a transaction (InTx) both wait for the commit: the row is
// written by the transaction, and this process's subscribers are called
// once it has committed, so none rereads what is not there yet.
func (d *DB) Notify(ctx context.Context, channel, payload string) error {
	d.afterCommit(ctx, func() { d.events.Dispatch(channel, payload) })
	now := micros(d.now())
	if _, err := d.execPrepared(ctx, insertEventSQL, d.origin, channel, payload, now); err != nil {
		return mapErr(err)
	}
	// Pruning reads the whole table, so it runs at most once every
	// eventsPruned, not with every notification (the group commit of
	// refresh-token rotations announces the tokens it ended).
	last := d.prunedAt.Load()
	if now-last < eventsPruned.Microseconds() || !d.prunedAt.CompareAndSwap(last, now) {
		return nil
	}
	_, err := d.execPrepared(ctx, pruneEventsSQL, now-eventsKept.Microseconds())
	return mapErr(err)
}

const (
	insertEventSQL = `INSERT INTO events (origin, channel, payload, created_at) VALUES (?, ?, ?, ?)`
	pruneEventsSQL = `DELETE FROM events WHERE created_at < ?`
)

// eventsKept is how long a notification stays in the events table at
// least: far longer than any watcher takes to read it. Rows stay up to
// eventsPruned longer.
const (
	eventsKept   = time.Minute
	eventsPruned = 10 * time.Second
)

// newOrigin tags this handle's rows in the events table.
func newOrigin() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Subscribe implements store.Events. The first subscription starts a
// watcher that polls PRAGMA data_version every PollInterval on a
// connection of its own; when another connection committed, it dispatches
// the notifications other processes appended since it last looked. Writes
// without notifications (tokens, audit events, this process's own) cost
// one cheap query and dispatch nothing.
func (d *DB) Subscribe(channel string, fn func(string)) func() {
	cancel := d.events.Subscribe(channel, fn)
	d.watchOnce.Do(func() {
		ctx, stop := context.WithCancel(context.Background())
		d.stopWatch = stop
		d.watchDone = make(chan struct{})
		started := make(chan struct{})
		go d.watch(ctx, started)
		<-started
	})
	return cancel
}

var _ store.Events = (*DB)(nil)

// PollInterval is how often the watcher looks for commits by other
// connections: PRAGMA data_version reads shared memory, so polling often
// costs next to nothing.
const PollInterval = 100 * time.Millisecond

// watch dispatches other processes' notifications until ctx ends. It
// closes started once it knows where the events table ends, so that
// nothing appended after Subscribe returns is missed.
func (d *DB) watch(ctx context.Context, started chan struct{}) {
	defer close(d.watchDone)
	startedOnce := func() {
		select {
		case <-started:
		default:
			close(started)
		}
	}
	defer startedOnce()
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
	var lastID int64
	if err := conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM events`).Scan(&lastID); err != nil {
		d.log().Warn("sqlite change watcher: no events table; run keyward migrate", "err", err)
		return
	}
	last, err := version()
	if err != nil {
		return
	}
	startedOnce()
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
				d.log().Warn("sqlite change watcher", "err", err)
			}
			continue
		}
		if v == last {
			continue
		}
		last = v
		if lastID, err = d.dispatchForeign(ctx, conn, lastID); err != nil && ctx.Err() == nil {
			// The rows could not be read: drop every cache instead.
			d.log().Warn("sqlite change watcher: reading notifications", "err", err)
			for _, ch := range d.events.Channels() {
				d.events.Dispatch(ch, store.Resync)
			}
		}
	}
}

// dispatchForeign dispatches the notifications after id that other
// handles appended, and returns the last id read (id itself on an error).
func (d *DB) dispatchForeign(ctx context.Context, conn *sql.Conn, id int64) (int64, error) {
	rows, err := conn.QueryContext(ctx, `SELECT id, origin, channel, payload FROM events WHERE id > ? ORDER BY id`, id)
	if err != nil {
		return id, err
	}
	type note struct {
		id                       int64
		origin, channel, payload string
	}
	notes, err := collect(rows, func(s scanner) (n note, err error) {
		return n, s.Scan(&n.id, &n.origin, &n.channel, &n.payload)
	})
	if err != nil {
		return id, err
	}
	for _, n := range notes {
		if n.origin != d.origin {
			d.events.Dispatch(n.channel, n.payload)
		}
		id = n.id
	}
	return id, nil
}
