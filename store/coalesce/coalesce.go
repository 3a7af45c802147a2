// Package coalesce gathers concurrent reads of single records into batched
// reads: callers that miss a cache at about the same time share one
// database round trip (`WHERE id = ANY($1)`) instead of one each.
package coalesce

import (
	"context"
	"sync"
	"time"
)

// Fetch reads the records of keys (distinct, at most MaxBatch of them) and
// returns those that exist; a key absent from the map does not exist. An
// error fails the whole batch: every caller waiting on it gets it.
type Fetch[K comparable, V any] func(ctx context.Context, keys []K) (map[K]V, error)

// Loader coalesces Load calls into Fetch calls. A Load that finds no
// batch being read starts one at once, so a lone miss waits for no
// window; otherwise its key joins the batch that is gathering, which is
// read as soon as a batch in flight returns, or at once when it reaches
// MaxBatch keys, or in another of the MaxInFlight slots once the batch in
// flight has been out for Patience. Concurrent Loads of one key in the
// gathering batch share one answer.
//
// Why a batch waits for the one in flight rather than taking a free slot
// at once: a query's fixed cost (its round trip, executor start, the
// database process's wake-up) is most of what a small batch costs, so on
// a busy database one batch of eight keys costs much less than two of
// four. Patience keeps a slow read (pages from disk, a stalled
// connection) from holding up every other miss.
//
// A Load never joins a batch that was already sent: what it returns was
// read after it was called, so a cache that notes a generation before
// calling Load and compares it afterwards (an invalidation counter) stays
// right.
//
// Fetch runs with a context of its own (not a caller's: one caller's
// cancellation must not fail the others, and a caller's transaction must
// not carry other callers' reads), bounded by Timeout. Do not Load from
// inside a transaction whose own writes the read must see.
type Loader[K comparable, V any] struct {
	fetch       Fetch[K, V]
	maxBatch    int
	maxInFlight int
	patience    time.Duration
	timeout     time.Duration
	onBatch     func(keys int)

	mu        sync.Mutex
	inFlight  int
	lastStart time.Time    // when the latest batch was sent
	next      *batch[K, V] // gathering; nil when none
}

type batch[K comparable, V any] struct {
	keys []K
	has  map[K]struct{}
	n    int // Loads waiting on it
	done chan struct{}
	vals map[K]V
	err  error
	// late sends the batch in a free slot once the batch in flight has
	// been out for Patience; nil when none was armed.
	late *time.Timer
}

// DefaultPatience is Config.Patience's default: about the time a batch
// of a hundred keys takes on a loaded database whose pages are cached.
const DefaultPatience = 2 * time.Millisecond

// Config tunes a Loader; zero values take the defaults.
type Config struct {
	// MaxBatch is the most keys one Fetch reads (default 128).
	MaxBatch int
	// MaxInFlight is how many Fetches may run at once (default 2).
	MaxInFlight int
	// Patience is how long Loads gather behind the batch in flight before
	// they are sent in another free slot (default 2ms; negative: sent at
	// once whenever a slot is free).
	Patience time.Duration
	// Timeout bounds each Fetch (default 10s).
	Timeout time.Duration
	// OnBatch, when set, is told the number of distinct keys of each Fetch
	// before it runs (a metric of how well misses gather).
	OnBatch func(keys int)
}

// BatchObserver is told the size of each batch a named Loader reads; the
// packages that make Loaders take it from their observer when the
// observer also implements it (an optional interface), and Prometheus
// exports it as keyward_store_batch_keys.
type BatchObserver interface {
	// LoaderBatch is one Fetch of keys distinct keys by the loader named
	// loader (one of the Loader* names).
	LoaderBatch(loader string, keys int)
}

// Names of the Loaders, for BatchObserver.
const (
	LoaderAccessTokens  = "access_tokens"
	LoaderRefreshTokens = "refresh_tokens"
	LoaderAPIKeys       = "api_keys"
)

// Loaders is every Loader name.
var Loaders = []string{LoaderAccessTokens, LoaderRefreshTokens, LoaderAPIKeys}

// Observe returns a Config.OnBatch that tells obs about the batches of
// the loader named name, or nil when obs is not a BatchObserver.
func Observe(obs any, name string) func(keys int) {
	if o, ok := obs.(BatchObserver); ok {
		return func(keys int) { o.LoaderBatch(name, keys) }
	}
	return nil
}

// New returns a Loader reading through fetch.
func New[K comparable, V any](fetch Fetch[K, V], cfg Config) *Loader[K, V] {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 128
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 2
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	switch {
	case cfg.Patience == 0:
		cfg.Patience = DefaultPatience
	case cfg.Patience < 0:
		cfg.Patience = 0
	}
	return &Loader[K, V]{fetch: fetch, maxBatch: cfg.MaxBatch, maxInFlight: cfg.MaxInFlight, patience: cfg.Patience,
		timeout: cfg.Timeout, onBatch: cfg.OnBatch}
}

// Load returns the record of key and whether it exists, or the failure of
// the Fetch that read it, or ctx's error when ctx ends first.
func (l *Loader[K, V]) Load(ctx context.Context, key K) (V, bool, error) {
	l.mu.Lock()
	b := l.next
	if b == nil {
		b = &batch[K, V]{has: make(map[K]struct{}, 8), done: make(chan struct{})}
		l.next = b
	}
	b.n++
	if _, dup := b.has[key]; !dup {
		b.has[key] = struct{}{}
		b.keys = append(b.keys, key)
	}
	var wait time.Duration
	start := l.inFlight == 0 || len(b.keys) >= l.maxBatch
	if !start && l.inFlight < l.maxInFlight {
		wait = l.patience - time.Since(l.lastStart)
		start = wait <= 0
	}
	if start {
		l.take(b)
	} else if wait > 0 && b.late == nil {
		b.late = time.AfterFunc(wait, func() { l.sendLate(b) })
	}
	l.mu.Unlock()
	if start {
		l.run(b) // in this goroutine: a lone miss costs no hand-off
	}
	select {
	case <-b.done:
	case <-ctx.Done():
		var zero V
		return zero, false, ctx.Err()
	}
	if b.err != nil {
		var zero V
		return zero, false, b.err
	}
	v, ok := b.vals[key]
	return v, ok, nil
}

// Gathering is how many Loads wait for the batch that is gathering (not
// yet sent).
func (l *Loader[K, V]) Gathering() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.next == nil {
		return 0
	}
	return l.next.n
}

// take sends b: it is no longer the gathering batch and holds a slot.
// l.mu is held.
func (l *Loader[K, V]) take(b *batch[K, V]) {
	if l.next == b {
		l.next = nil
	}
	if b.late != nil {
		b.late.Stop()
	}
	l.inFlight++
	l.lastStart = time.Now()
}

// sendLate sends b in a free slot if it is still gathering: the batch in
// flight has been out for the Loader's patience.
func (l *Loader[K, V]) sendLate(b *batch[K, V]) {
	l.mu.Lock()
	send := l.next == b && l.inFlight < l.maxInFlight
	if send {
		l.take(b)
	}
	l.mu.Unlock()
	if send {
		l.run(b)
	}
}

// run reads b, then starts the batch that gathered meanwhile, if any.
func (l *Loader[K, V]) run(b *batch[K, V]) {
	if l.onBatch != nil {
		l.onBatch(len(b.keys))
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
	b.vals, b.err = l.fetch(ctx, b.keys)
	cancel()
	close(b.done)
	l.mu.Lock()
	l.inFlight--
	next := l.next
	if next != nil && l.inFlight < l.maxInFlight {
		l.take(next) // this slot passes straight to the gathered batch
	} else {
		next = nil
	}
	l.mu.Unlock()
	if next != nil {
		go l.run(next)
	}
}
