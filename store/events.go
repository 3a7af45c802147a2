package store

import (
	"context"
	"sync"
)

// Resync is the payload a subscriber receives when notifications may have
// been missed (after a lost connection): it must drop everything it caches
// from that channel.
const Resync = "*"

// Events carries small cache-invalidation messages between the instances
// that share a database. Delivery is at most once; subscribers keep a TTL
// as the safety net.
type Events interface {
	// Notify sends payload (at most 7900 bytes) on channel to every
	// subscriber of every instance, this one included.
	Notify(ctx context.Context, channel, payload string) error
	// Subscribe calls fn for each payload on channel until cancel is called.
	// fn runs on a shared goroutine and must not block; it may run (with
	// Resync) before Subscribe returns. An engine that delivers across
	// instances returns once the subscription is live, so anything the
	// caller loads afterwards is covered by later notifications.
	Subscribe(channel string, fn func(payload string)) (cancel func())
}

// LocalEvents delivers notifications within one process; the SQLite engine
// uses it because a SQLite file serves one instance.
type LocalEvents struct {
	mu   sync.RWMutex
	next int
	subs map[string]map[int]func(string)
}

var _ Events = (*LocalEvents)(nil)

// Notify implements Events.
func (l *LocalEvents) Notify(_ context.Context, channel, payload string) error {
	l.Dispatch(channel, payload)
	return nil
}

// Dispatch calls every subscriber of channel with payload.
func (l *LocalEvents) Dispatch(channel, payload string) {
	l.mu.RLock()
	fns := make([]func(string), 0, len(l.subs[channel]))
	for _, fn := range l.subs[channel] {
		fns = append(fns, fn)
	}
	l.mu.RUnlock()
	for _, fn := range fns {
		fn(payload)
	}
}

// Channels returns the channels that have subscribers.
func (l *LocalEvents) Channels() []string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]string, 0, len(l.subs))
	for ch, m := range l.subs {
		if len(m) > 0 {
			out = append(out, ch)
		}
	}
	return out
}

// Subscribe implements Events.
func (l *LocalEvents) Subscribe(channel string, fn func(string)) func() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.subs == nil {
		l.subs = map[string]map[int]func(string){}
	}
	if l.subs[channel] == nil {
		l.subs[channel] = map[int]func(string){}
	}
	id := l.next
	l.next++
	l.subs[channel][id] = fn
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.subs[channel], id)
	}
}
