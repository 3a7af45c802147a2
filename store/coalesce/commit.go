package coalesce

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Write stores items (at most MaxBatch of them) together, in one
// transaction, and returns each one's outcome in order: nil when it is
// stored. It must return len(items) errors.
type Write[T any] func(ctx context.Context, items []T) []error

// Committer gathers concurrent writes into group commits: the writes that
// arrive while one batch is being committed are committed together next,
// in one transaction of Write, and each caller returns once its own item
// is durable (or failed). A write that finds none in flight is committed
// at once, alone, so a lone write waits for no window; under load a
// commit's fixed cost (the transaction, the log flush, the database's
// wake-up, on SQLite the pages each commit writes to the WAL and
// checkpoints again) is shared by the writes that gathered behind it.
//
// A commit of several writes runs with a context of its own (not a
// caller's: one caller's cancellation must not fail the others), bounded
// by Timeout; a lone write runs with its caller's, as it would without
// the Committer. A caller whose context ends while its item waits
// returns the context's error at once; its item is withdrawn if its
// commit has not been sent yet (a client that gave up leaves nothing
// written, as its own cancelled transaction would not have), and may
// still be written if it has. Do not Commit from inside a transaction
// whose own writes must go with the item: the item is written in another
// one.
type Committer[T any] struct {
	write     Write[T]
	maxBatch  int
	maxLinger time.Duration
	timeout   time.Duration
	onBatch   func(items int)

	mu      sync.Mutex
	running bool         // a batch is being committed, or lingering
	waiting []*commit[T] // gathered, in order of arrival; only the last is not full
	// The latest commit: when it ended, how long it took, its items.
	lastEnd   time.Time
	lastTook  time.Duration
	lastItems int
}

type commit[T any] struct {
	items []T
	errs  []error
	done  chan struct{}
	// withdrawn holds the indexes of the items whose callers left before
	// the batch was sent: they are not written.
	withdrawn map[int]bool
	// A batch that lingers is sent when it holds target items or when
	// its timer fires, whichever comes first; sent says it has gone.
	target int
	timer  *time.Timer
	sent   bool
}

// CommitConfig tunes a Committer; zero values take the defaults.
type CommitConfig struct {
	// MaxBatch is the most items one Write stores (default 128); the
	// items past it wait for the next.
	MaxBatch int
	// MaxLinger bounds how long a write that finds none in flight waits
	// for others when the committer is busy (default 2ms; negative:
	// never waits). See Committer.
	MaxLinger time.Duration
	// Timeout bounds each Write (default 10s).
	Timeout time.Duration
	// OnBatch, when set, is told the number of items of each Write before
	// it runs.
	OnBatch func(items int)
}

// CommitObserver is told the size of each group commit of a named
// Committer, as BatchObserver is of a Loader's reads; Prometheus exports
// it as keyward_store_commit_records.
type CommitObserver interface {
	// GroupCommit is one Write of items items by the committer named
	// committer (one of the Committer* names).
	GroupCommit(committer string, items int)
}

// Names of the Committers, for CommitObserver.
const (
	// CommitterTokenRecords writes the token records of token endpoints
	// and authorization requests.
	CommitterTokenRecords = "token_records"
)

// Committers is every Committer name.
var Committers = []string{CommitterTokenRecords}

// ObserveCommits returns a CommitConfig.OnBatch that tells obs about the
// group commits of the committer named name, or nil when obs is not a
// CommitObserver.
func ObserveCommits(obs any, name string) func(items int) {
	if o, ok := obs.(CommitObserver); ok {
		return func(items int) { o.GroupCommit(name, items) }
	}
	return nil
}

// NewCommitter returns a Committer writing through write.
func NewCommitter[T any](write Write[T], cfg CommitConfig) *Committer[T] {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 128
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	switch {
	case cfg.MaxLinger == 0:
		cfg.MaxLinger = 2 * time.Millisecond
	case cfg.MaxLinger < 0:
		cfg.MaxLinger = 0
	}
	return &Committer[T]{write: write, maxBatch: cfg.MaxBatch, maxLinger: cfg.MaxLinger, timeout: cfg.Timeout,
		onBatch: cfg.OnBatch}
}

// Commit stores item with the others that gather with it and returns its
// outcome, or ctx's error when ctx ends first (see Committer for what
// becomes of the item then).
func (c *Committer[T]) Commit(ctx context.Context, item T) error {
	c.mu.Lock()
	var b *commit[T]
	if n := len(c.waiting); n > 0 && len(c.waiting[n-1].items) < c.maxBatch {
		b = c.waiting[n-1]
	} else {
		b = &commit[T]{done: make(chan struct{})}
		c.waiting = append(c.waiting, b)
	}
	idx := len(b.items)
	b.items = append(b.items, item)
	var send *commit[T]
	switch {
	case !c.running:
		// Nothing in flight, so b is the only batch waiting.
		c.running = true
		if wait := c.lingerFor(time.Now()); wait > 0 {
			b.target = c.lastItems
			b.timer = time.AfterFunc(wait, func() { c.sendLingering(b) })
		} else {
			send = c.takeNext()
		}
	case b.timer != nil && !b.sent && len(b.items) >= b.target:
		send = c.takeNext() // b is the lingering batch, now as full as the last
	}
	c.mu.Unlock()
	if send == b && len(b.items) == 1 {
		// A lone write, in this goroutine (no hand-off) and with this
		// caller's context: nobody else waits on it.
		c.run(ctx, b)
	} else if send != nil {
		c.run(nil, send)
	}
	select {
	case <-b.done:
	case <-ctx.Done():
		c.mu.Lock()
		if !b.sent {
			// Not sent yet: withdrawn, so that a caller that gave up (a
			// client gone, a deadline passed) leaves nothing written, as
			// its own cancelled transaction would not have.
			if b.withdrawn == nil {
				b.withdrawn = map[int]bool{}
			}
			b.withdrawn[idx] = true
		}
		c.mu.Unlock()
		return ctx.Err()
	}
	return b.errs[idx]
}

// lingerFor is how long a write that finds nothing in flight waits for
// others. Under a steady load the writes that a commit released come
// back together, and the first of them would otherwise be committed
// alone, at a whole commit's cost, while the rest gather behind it: so
// when the latest commit held more than one item and ended less than its
// own duration ago, the new batch waits up to that duration (at most
// MaxLinger) or until it holds as many items as that commit did. A write
// after a quiet spell, or of a lone writer, goes at once. c.mu is held.
func (c *Committer[T]) lingerFor(now time.Time) time.Duration {
	if c.maxLinger <= 0 || c.lastItems < 2 || now.Sub(c.lastEnd) >= c.lastTook {
		return 0
	}
	return min(c.lastTook, c.maxLinger)
}

// takeNext removes the oldest waiting batch and marks it sent. c.mu is
// held; c.waiting is not empty. (It shifts the few batches that wait
// instead of reslicing, which would shrink the queue's capacity and
// reallocate it on nearly every write.)
func (c *Committer[T]) takeNext() *commit[T] {
	b := c.waiting[0]
	n := copy(c.waiting, c.waiting[1:])
	c.waiting[n] = nil
	c.waiting = c.waiting[:n]
	b.sent = true
	if b.timer != nil {
		b.timer.Stop()
	}
	return b
}

// sendLingering sends b when its linger is over, unless it has gone.
func (c *Committer[T]) sendLingering(b *commit[T]) {
	c.mu.Lock()
	send := !b.sent
	if send {
		c.takeNext() // b, the oldest: nothing runs while it lingers
	}
	c.mu.Unlock()
	if send {
		c.run(nil, b)
	}
}

// commit writes items, with ctx when it is a lone write's own context,
// else with a context of its own bounded by the timeout, and returns one
// outcome for each item.
func (c *Committer[T]) commit(ctx context.Context, items []T) []error {
	if len(items) == 0 {
		return nil
	}
	if c.onBatch != nil {
		c.onBatch(len(items))
	}
	var errs []error
	if ctx != nil {
		errs = c.write(ctx, items)
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		errs = c.write(ctx, items)
		cancel()
	}
	if len(errs) != len(items) {
		err := fmt.Errorf("coalesce: a Write of %d items returned %d outcomes", len(items), len(errs))
		errs = make([]error, len(items))
		for i := range errs {
			errs[i] = err
		}
	}
	return errs
}

// run commits b's items but the withdrawn ones (commit); then it hands the
// committer to the oldest batch that gathered meanwhile, if any, in a
// goroutine of its own (so that this caller returns with its own
// outcome).
func (c *Committer[T]) run(ctx context.Context, b *commit[T]) {
	// b is sent (no caller withdraws from it any more): its items are
	// settled.
	items, kept := b.items, []int(nil)
	if len(b.withdrawn) > 0 {
		items = make([]T, 0, len(b.items))
		for i, it := range b.items {
			if !b.withdrawn[i] {
				items = append(items, it)
				kept = append(kept, i)
			}
		}
	}
	start := time.Now()
	errs := c.commit(ctx, items)
	if len(b.withdrawn) > 0 {
		// Back to the callers' indexes (a withdrawn caller reads none).
		all := make([]error, len(b.items))
		for i, err := range errs {
			all[kept[i]] = err
		}
		errs = all
	}
	b.errs = errs
	close(b.done)
	end := time.Now()
	c.mu.Lock()
	c.lastEnd, c.lastTook, c.lastItems = end, end.Sub(start), len(items)
	var next *commit[T]
	if len(c.waiting) > 0 {
		next = c.takeNext()
	} else {
		c.running = false
	}
	c.mu.Unlock()
	if next != nil {
		go c.run(nil, next)
	}
}
