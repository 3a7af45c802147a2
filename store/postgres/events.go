package postgres

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/keyward/keyward/store"
)

// Notify implements store.Events with pg_notify: every instance listening
// on the database gets payload, this one included.
func (d *DB) Notify(ctx context.Context, channel, payload string) error {
	_, err := d.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, d.channel(channel), payload)
	return mapErr(err)
}

// Subscribe implements store.Events. The first subscription starts one
// listener connection (outside the pool's accounting for requests); after a
// lost connection it reconnects with backoff and sends store.Resync to
// every subscriber, since notifications may have been missed.
func (d *DB) Subscribe(channel string, fn func(string)) func() {
	l := d.listener()
	cancel := l.local.Subscribe(d.channel(channel), fn)
	l.kick()
	return cancel
}

var _ store.Events = (*DB)(nil)

// channel returns the database-wide name of a channel in this schema
// (PostgreSQL identifiers hold 63 bytes).
func (d *DB) channel(name string) string {
	if d.ns == "" {
		return name
	}
	ch := name + "@" + d.ns
	if len(ch) > 63 {
		ch = ch[:63]
	}
	return ch
}

type listener struct {
	pool   *pgxpool.Pool
	local  store.LocalEvents
	wake   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

func (d *DB) listener() *listener {
	d.listenOnce.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		d.listen = &listener{pool: d.pool, wake: make(chan struct{}, 1), ctx: ctx, cancel: cancel, done: make(chan struct{})}
		go d.listen.run()
	})
	return d.listen
}

func (l *listener) kick() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *listener) stop() {
	l.cancel()
	<-l.done
}

// run keeps one connection LISTENing on every subscribed channel.
func (l *listener) run() {
	defer close(l.done)
	backoff := 100 * time.Millisecond
	first := true
	for l.ctx.Err() == nil {
		err := l.session(first)
		first = false
		if l.ctx.Err() != nil {
			return
		}
		slog.Warn("postgres listener lost its connection; reconnecting", "err", err, "backoff", backoff)
		select {
		case <-time.After(backoff):
		case <-l.ctx.Done():
			return
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (l *listener) session(first bool) error {
	conn, err := l.pool.Acquire(l.ctx)
	if err != nil {
		return err
	}
	// The connection leaves the pool: LISTEN state must not leak into requests.
	pc := conn.Hijack()
	defer pc.Close(context.Background())
	listening := map[string]bool{}
	sync := func() error {
		for _, ch := range l.local.Channels() {
			if !listening[ch] {
				if _, err := pc.Exec(l.ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
					return err
				}
				listening[ch] = true
			}
		}
		return nil
	}
	if err := sync(); err != nil {
		return err
	}
	if !first {
		for ch := range listening {
			l.local.Dispatch(ch, store.Resync)
		}
	}
	for {
		wctx, cancel := context.WithTimeout(l.ctx, time.Second)
		n, err := pc.WaitForNotification(wctx)
		cancel()
		select {
		case <-l.wake:
			if err := sync(); err != nil {
				return err
			}
		default:
		}
		if err == nil {
			l.local.Dispatch(n.Channel, n.Payload)
			continue
		}
		if l.ctx.Err() != nil {
			return l.ctx.Err()
		}
		if errors.Is(err, context.DeadlineExceeded) {
			// Idle: keep the connection honest.
			if _, err := pc.Exec(l.ctx, "SELECT 1"); err != nil {
				return err
			}
			continue
		}
		return err
	}
}
