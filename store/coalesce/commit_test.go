package coalesce

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// writeGate is a Write that records each batch, fails the items listed
// in fail, and waits for release before answering when held is set.
type writeGate struct {
	mu      sync.Mutex
	batches [][]int
	written []int
	fail    map[int]error
	held    bool
	entered chan []int
	release chan struct{}
}

func newWriteGate(held bool) *writeGate {
	return &writeGate{fail: map[int]error{}, held: held, entered: make(chan []int, 100),
		release: make(chan struct{}, 100)}
}

func (g *writeGate) write(ctx context.Context, items []int) []error {
	batch := slices.Clone(items)
	g.mu.Lock()
	g.batches = append(g.batches, batch)
	held := g.held
	g.mu.Unlock()
	g.entered <- batch
	if held {
		<-g.release
	}
	errs := make([]error, len(items))
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, it := range items {
		if errs[i] = g.fail[it]; errs[i] == nil {
			g.written = append(g.written, it)
		}
	}
	return errs
}

func (g *writeGate) sizes() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []int
	for _, b := range g.batches {
		out = append(out, len(b))
	}
	return out
}

// waitFor polls until cond holds, failing the test after 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// queued is how many items wait behind the batch in flight.
func (c *Committer[T]) queued() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, b := range c.waiting {
		n += len(b.items)
	}
	return n
}

// commitAll commits items concurrently and returns each one's outcome
// on a channel, in no order.
func commitAll(ctx context.Context, c *Committer[int], items ...int) <-chan [2]any {
	out := make(chan [2]any, len(items))
	for _, it := range items {
		go func() { out <- [2]any{it, c.Commit(ctx, it)} }()
	}
	return out
}

// TestCommitterGathersBehindTheCommitInFlight: a lone write goes at once;
// the writes that arrive while it is being committed go together in the
// next commit, and each caller gets its own item's outcome.
func TestCommitterGathersBehindTheCommitInFlight(t *testing.T) {
	g := newWriteGate(true)
	var observed []int
	var obsMu sync.Mutex
	c := NewCommitter(g.write, CommitConfig{OnBatch: func(n int) { obsMu.Lock(); observed = append(observed, n); obsMu.Unlock() }})
	g.fail[3] = errors.New("item 3 refused")
	g.fail[5] = errors.New("item 5 refused")
	first := commitAll(context.Background(), c, 0)
	if got := <-g.entered; !slices.Equal(got, []int{0}) {
		t.Fatalf("first commit: %v", got)
	}
	rest := commitAll(context.Background(), c, 1, 2, 3, 4, 5)
	waitFor(t, "five writes to gather", func() bool { return c.queued() == 5 })
	g.release <- struct{}{}
	if r := <-first; r[1] != nil {
		t.Fatalf("first write: %v", r[1])
	}
	second := <-g.entered
	slices.Sort(second)
	if !slices.Equal(second, []int{1, 2, 3, 4, 5}) {
		t.Fatalf("second commit: %v, want the five that gathered", second)
	}
	g.release <- struct{}{}
	for range 5 {
		r := <-rest
		it, err := r[0].(int), r[1]
		want := g.fail[it]
		if (want == nil) != (err == nil) || (err != nil && err.(error).Error() != want.Error()) {
			t.Errorf("item %d: %v, want %v", it, err, want)
		}
	}
	if got := g.sizes(); !slices.Equal(got, []int{1, 5}) {
		t.Errorf("batches %v, want [1 5]", got)
	}
	obsMu.Lock()
	defer obsMu.Unlock()
	if !slices.Equal(observed, []int{1, 5}) {
		t.Errorf("OnBatch saw %v, want [1 5]", observed)
	}
}

// TestCommitterMaxBatch: writes past MaxBatch wait for the next commit,
// in order of arrival.
func TestCommitterMaxBatch(t *testing.T) {
	g := newWriteGate(true)
	c := NewCommitter(g.write, CommitConfig{MaxBatch: 3})
	done := commitAll(context.Background(), c, 0)
	<-g.entered
	var all []<-chan [2]any
	for i := 1; i <= 7; i++ {
		all = append(all, commitAll(context.Background(), c, i))
		waitFor(t, fmt.Sprintf("write %d to gather", i), func() bool { return c.queued() == i })
	}
	var got [][]int
	for range 4 {
		g.release <- struct{}{}
	}
	<-done
	for _, ch := range all {
		if r := <-ch; r[1] != nil {
			t.Fatal(r[1])
		}
	}
	for range 3 {
		got = append(got, <-g.entered)
	}
	want := [][]int{{1, 2, 3}, {4, 5, 6}, {7}}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			t.Fatalf("commits after the first: %v, want %v", got, want)
		}
	}
}

// TestCommitterCancelledCallerLeavesOthers: a caller whose context ends
// while its item waits returns at once with the context's error. Its
// item is withdrawn while its commit has not been sent (the others go on
// without it, each with its own outcome), and written when the commit is
// already under way.
func TestCommitterCancelledCallerLeavesOthers(t *testing.T) {
	g := newWriteGate(true)
	c := NewCommitter(g.write, CommitConfig{})
	first := commitAll(context.Background(), c, 0)
	<-g.entered
	ctx, cancel := context.WithCancel(context.Background())
	gone := commitAll(ctx, c, 1)
	g.fail[3] = errors.New("item 3 refused")
	other := commitAll(context.Background(), c, 2, 3)
	waitFor(t, "three writes to gather", func() bool { return c.queued() == 3 })
	cancel()
	if r := <-gone; !errors.Is(r[1].(error), context.Canceled) {
		t.Fatalf("cancelled caller: %v", r[1])
	}
	g.release <- struct{}{}
	<-first
	second := <-g.entered
	slices.Sort(second)
	if !slices.Equal(second, []int{2, 3}) {
		t.Fatalf("second commit: %v, want the two callers still waiting", second)
	}
	// Cancelled once its commit is under way: written all the same.
	late, cancelLate := context.WithCancel(context.Background())
	third := commitAll(late, c, 4)
	waitFor(t, "a write to gather", func() bool { return c.queued() == 1 })
	g.release <- struct{}{}
	for range 2 {
		r := <-other
		if it, err := r[0].(int), r[1]; (it == 3) != (err != nil) {
			t.Errorf("item %d: %v", it, err)
		}
	}
	<-g.entered
	cancelLate()
	if r := <-third; !errors.Is(r[1].(error), context.Canceled) {
		t.Fatalf("caller cancelled during its commit: %v", r[1])
	}
	g.release <- struct{}{}
	waitFor(t, "the third commit", func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return slices.Contains(g.written, 4)
	})
	g.mu.Lock()
	defer g.mu.Unlock()
	slices.Sort(g.written)
	if !slices.Equal(g.written, []int{0, 2, 4}) {
		t.Errorf("written %v, want [0 2 4]", g.written)
	}
}

// TestCommitterAllWithdrawn: a commit whose callers all left before it
// was sent writes nothing, and the committer goes on.
func TestCommitterAllWithdrawn(t *testing.T) {
	g := newWriteGate(true)
	c := NewCommitter(g.write, CommitConfig{})
	first := commitAll(context.Background(), c, 0)
	<-g.entered
	ctx, cancel := context.WithCancel(context.Background())
	gone := commitAll(ctx, c, 1, 2)
	waitFor(t, "two writes to gather", func() bool { return c.queued() == 2 })
	cancel()
	<-gone
	<-gone
	g.release <- struct{}{}
	<-first
	g.mu.Lock()
	g.held = false
	g.mu.Unlock()
	if err := c.Commit(context.Background(), 3); err != nil {
		t.Fatal(err)
	}
	if got := g.sizes(); !slices.Equal(got, []int{1, 1}) {
		t.Errorf("batches %v, want [1 1] (nothing for the withdrawn pair)", got)
	}
}

// TestCommitterWrongOutcomeCount: a Write that answers for the wrong
// number of items fails every caller of its commit instead of panicking
// or answering one with another's outcome.
func TestCommitterWrongOutcomeCount(t *testing.T) {
	c := NewCommitter(func(context.Context, []int) []error { return nil }, CommitConfig{})
	if err := c.Commit(context.Background(), 1); err == nil {
		t.Fatal("a commit with no outcome succeeded")
	}
}

// TestCommitterLingerFor: a write that finds nothing in flight waits only
// when the latest commit held more than one item and ended less than its
// own duration ago, for that duration at most MaxLinger.
func TestCommitterLingerFor(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name      string
		maxLinger time.Duration
		items     int
		endedAgo  time.Duration
		took      time.Duration
		want      time.Duration
	}{
		{"never committed", 0, 0, 0, 0, 0},
		{"a lone writer", 0, 1, 10 * time.Microsecond, time.Millisecond, 0},
		{"busy", 0, 5, 100 * time.Microsecond, time.Millisecond, time.Millisecond},
		{"quiet since", 0, 5, 2 * time.Millisecond, time.Millisecond, 0},
		{"a slow commit", 0, 5, 100 * time.Microsecond, 50 * time.Millisecond, 2 * time.Millisecond},
		{"a larger bound", 30 * time.Millisecond, 5, 100 * time.Microsecond, 50 * time.Millisecond, 30 * time.Millisecond},
		{"lingering off", -1, 5, 100 * time.Microsecond, time.Millisecond, 0},
	} {
		c := NewCommitter(func(context.Context, []int) []error { return nil }, CommitConfig{MaxLinger: tc.maxLinger})
		c.lastItems, c.lastEnd, c.lastTook = tc.items, now.Add(-tc.endedAgo), tc.took
		if got := c.lingerFor(now); got != tc.want {
			t.Errorf("%s: lingers %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestCommitterLingeringBatchGoesWhenFull: a lingering batch is committed
// as soon as it holds as many items as the latest commit, without waiting
// for its timer (here an hour).
func TestCommitterLingeringBatchGoesWhenFull(t *testing.T) {
	g := newWriteGate(false)
	c := NewCommitter(g.write, CommitConfig{MaxLinger: time.Hour})
	c.lastItems, c.lastEnd, c.lastTook = 3, time.Now(), time.Hour
	done := commitAll(context.Background(), c, 1, 2, 3)
	timeout := time.After(10 * time.Second)
	for range 3 {
		select {
		case r := <-done:
			if r[1] != nil {
				t.Fatal(r[1])
			}
		case <-timeout:
			t.Fatal("the lingering batch was not committed when it held three items")
		}
	}
	if got := g.sizes(); !slices.Equal(got, []int{3}) {
		t.Errorf("batches %v, want one of 3", got)
	}
}

// TestCommitterLingeringBatchGoesOnItsTimer: a lingering batch that does
// not fill is committed when its linger is over.
func TestCommitterLingeringBatchGoesOnItsTimer(t *testing.T) {
	g := newWriteGate(false)
	c := NewCommitter(g.write, CommitConfig{})
	c.lastItems, c.lastEnd, c.lastTook = 3, time.Now(), 20*time.Millisecond
	done := commitAll(context.Background(), c, 1)
	select {
	case r := <-done:
		if r[1] != nil {
			t.Fatal(r[1])
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the lingering batch was never committed")
	}
	if got := g.sizes(); !slices.Equal(got, []int{1}) {
		t.Errorf("batches %v, want one of 1", got)
	}
	// That commit held one item: the next write goes at once.
	waitFor(t, "the commit to end", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return !c.running
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lastItems != 1 || c.lingerFor(time.Now()) != 0 {
		t.Error("a write after a lone commit would linger")
	}
}
