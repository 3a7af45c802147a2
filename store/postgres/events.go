package postgres

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/keyward/keyward/store"
)

// Notify implements store.Events with pg_notify: every instance listening
// on the database gets payload, this one included.
func (d *DB) Notify(ctx context.Context, channel, payload string) error {
	_, err := d.q(ctx).Exec(ctx, `SELECT pg_notify($1, $2)`, d.channel(channel), payload)
	return mapErr(err)
}

// Subscribe implements store.Events. The first subscription starts one
// listener connection (outside the pool's accounting for requests); after a
// lost connection it reconnects with backoff and sends store.Resync to
// every subscriber, since notifications may have been missed. A channel
// subscribed while the listener runs is LISTENed at once, and its
// subscribers get store.Resync once it is, covering anything they loaded
// before. Subscribe returns once the channel is LISTENed, so nothing a
// caller caches afterwards can miss a notification or be dropped by that
// first Resync; if the database does not answer within subscribeWait it
// returns anyway, and the Resync follows when the listener connects.
func (d *DB) Subscribe(channel string, fn func(string)) func() {
	l := d.listener()
	ch := d.channel(channel)
	cancel := l.local.Subscribe(ch, fn)
	l.start()
	l.kick()
	l.awaitListening(ch, subscribeWait)
	return cancel
}

// subscribeWait bounds how long Subscribe waits for the LISTEN.
const subscribeWait = 3 * time.Second

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
	pool      *pgxpool.Pool
	log       *slog.Logger
	local     store.LocalEvents
	wake      chan struct{}
	ctx       context.Context
	cancel    context.CancelFunc
	done      chan struct{}
	startOnce sync.Once

	mu        sync.Mutex
	interrupt context.CancelFunc // ends the current wait, so a new channel is LISTENed at once
	ready     map[string]bool    // channels LISTENed (and resynced) on the current connection
	readyCh   chan struct{}      // closed, and replaced, whenever ready grows

	down        atomic.Bool // the last connection attempt failed: Subscribe does not wait
	dispatching atomic.Bool // the listener goroutine is calling subscribers
}

// dispatch calls the subscribers of ch, marking the listener busy so that
// a Subscribe from inside a callback does not wait on this goroutine.
func (l *listener) dispatch(ch, payload string) {
	l.dispatching.Store(true)
	defer l.dispatching.Store(false)
	l.local.Dispatch(ch, payload)
}

// setReady records channels as LISTENed on the current connection (reset
// clears the set first) and wakes every awaitListening.
func (l *listener) setReady(reset bool, channels []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if reset || l.ready == nil {
		l.ready = map[string]bool{}
	}
	for _, ch := range channels {
		l.ready[ch] = true
	}
	if l.readyCh != nil {
		close(l.readyCh)
	}
	l.readyCh = make(chan struct{})
}

// awaitListening waits until ch is LISTENed, at most d; not at all while
// the database is unreachable or when called from a subscriber callback
// (the listener goroutine, which would only LISTEN after it returns).
func (l *listener) awaitListening(ch string, d time.Duration) {
	if l.down.Load() || l.dispatching.Load() {
		return
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		l.mu.Lock()
		if l.ready[ch] {
			l.mu.Unlock()
			return
		}
		if l.readyCh == nil {
			l.readyCh = make(chan struct{})
		}
		wait := l.readyCh
		l.mu.Unlock()
		select {
		case <-wait:
		case <-timer.C:
			return
		case <-l.ctx.Done():
			return
		}
	}
}

// listener returns the listener, created but not started: the first
// subscription registers before the connection first syncs.
func (d *DB) listener() *listener {
	d.listenOnce.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		d.listen = &listener{pool: d.pool, log: d.log(), wake: make(chan struct{}, 1), ctx: ctx, cancel: cancel, done: make(chan struct{})}
	})
	return d.listen
}

func (l *listener) start() { l.startOnce.Do(func() { go l.run() }) }

func (l *listener) kick() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
	l.mu.Lock()
	if l.interrupt != nil {
		l.interrupt()
	}
	l.mu.Unlock()
}

func (l *listener) stop() {
	l.cancel()
	l.start() // so done is closed even if no one subscribed
	<-l.done
}

// run keeps one connection LISTENing on every subscribed channel.
func (l *listener) run() {
	defer close(l.done)
	const minBackoff = 100 * time.Millisecond
	backoff := minBackoff
	first := true
	for l.ctx.Err() == nil {
		started := time.Now()
		err := l.session(first)
		first = false
		l.down.Store(true)
		if l.ctx.Err() != nil {
			return
		}
		if time.Since(started) > time.Minute {
			backoff = minBackoff // the connection was healthy for a while
		}
		l.log.Warn("postgres listener lost its connection; reconnecting", "err", err, "backoff", backoff)
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
	defer l.setReady(true, nil) // a new connection LISTENs afresh
	listening := map[string]bool{}
	// listen LISTENs every subscribed channel not yet listened to and
	// returns those it added.
	listen := func() ([]string, error) {
		var added []string
		for _, ch := range l.local.Channels() {
			if !listening[ch] {
				if _, err := pc.Exec(l.ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
					return added, err
				}
				listening[ch] = true
				added = append(added, ch)
			}
		}
		return added, nil
	}
	added, err := listen()
	if err != nil {
		return err
	}
	if !first {
		// Reconnected: anything may have been missed on any channel.
		added = added[:0]
		for ch := range listening {
			added = append(added, ch)
		}
	}
	for _, ch := range added {
		l.dispatch(ch, store.Resync)
	}
	l.setReady(true, slices.Collect(maps.Keys(listening)))
	l.down.Store(false)
	for {
		wctx, cancel := context.WithTimeout(l.ctx, 5*time.Second)
		l.mu.Lock()
		l.interrupt = cancel
		l.mu.Unlock()
		select {
		case <-l.wake: // a subscription arrived before this wait began
			cancel()
		default:
		}
		n, err := pc.WaitForNotification(wctx)
		cancel()
		l.mu.Lock()
		l.interrupt = nil
		l.mu.Unlock()
		newCh, lerr := listen()
		if lerr != nil {
			return lerr
		}
		for _, ch := range newCh {
			l.dispatch(ch, store.Resync)
		}
		if len(newCh) > 0 {
			l.setReady(false, newCh)
		}
		if err == nil {
			l.dispatch(n.Channel, n.Payload)
			continue
		}
		if l.ctx.Err() != nil {
			return l.ctx.Err()
		}
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			// Woken or idle: keep the connection honest.
			if _, err := pc.Exec(l.ctx, "SELECT 1"); err != nil {
				return err
			}
			continue
		}
		return err
	}
}
