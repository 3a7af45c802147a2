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

// gate is a Fetch that records each batch and waits for release before
// answering from data.
type gate struct {
	data    map[string]int
	err     error
	mu      sync.Mutex
	batches [][]string
	entered chan []string
	release chan struct{}
}

func newGate(data map[string]int) *gate {
	return &gate{data: data, entered: make(chan []string, 100), release: make(chan struct{}, 100)}
}

func (g *gate) fetch(ctx context.Context, keys []string) (map[string]int, error) {
	// The answer is what data holds when the read begins.
	g.mu.Lock()
	g.batches = append(g.batches, slices.Clone(keys))
	out := map[string]int{}
	for _, k := range keys {
		if v, ok := g.data[k]; ok {
			out[k] = v
		}
	}
	err := g.err
	g.mu.Unlock()
	g.entered <- keys
	<-g.release
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (g *gate) set(key string, v int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.data[key] = v
}

func (g *gate) get(key string) (int, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	v, ok := g.data[key]
	return v, ok
}

type answer struct {
	key   string
	v     int
	found bool
	err   error
}

func load(l *Loader[string, int], key string, out chan<- answer) {
	v, ok, err := l.Load(context.Background(), key)
	out <- answer{key, v, ok, err}
}

// TestBatchedAnswersMatchPerKey: loads gathered while a batch is in
// flight are read together, and each caller gets exactly its own key's
// answer, missing keys included; duplicates are read once.
func TestBatchedAnswersMatchPerKey(t *testing.T) {
	g := newGate(map[string]int{"a": 1, "b": 2, "c": 3})
	l := New(g.fetch, Config{MaxInFlight: 1})
	out := make(chan answer, 10)
	go load(l, "a", out)
	if got := <-g.entered; !slices.Equal(got, []string{"a"}) {
		t.Fatalf("first batch %v, want [a]", got)
	}
	// While "a" is read, these gather into one batch.
	keys := []string{"b", "missing", "c", "b", "a"}
	for _, k := range keys {
		go load(l, k, out)
	}
	waitGathered(t, l, len(keys))
	g.release <- struct{}{}
	second := <-g.entered
	slices.Sort(second)
	if want := []string{"a", "b", "c", "missing"}; !slices.Equal(second, want) {
		t.Fatalf("second batch %v, want %v", second, want)
	}
	g.release <- struct{}{}
	got := map[string][]answer{}
	for range 1 + len(keys) {
		a := <-out
		got[a.key] = append(got[a.key], a)
	}
	for key, as := range got {
		for _, a := range as {
			want, found := g.get(key)
			if a.err != nil || a.found != found || a.v != want {
				t.Errorf("Load(%q) = %d, %v, %v; want %d, %v, nil", key, a.v, a.found, a.err, want, found)
			}
		}
	}
	if len(got["b"]) != 2 || len(got["a"]) != 2 {
		t.Errorf("answers %v", got)
	}
}

// waitGathered waits until n Loads wait on the gathering batch.
func waitGathered(t *testing.T, l *Loader[string, int], n int) {
	t.Helper()
	for {
		c := l.Gathering()
		if c == n {
			return
		}
		if c > n {
			t.Fatalf("gathered %d keys, want %d", c, n)
		}
		waitABit()
	}
}

// TestNeverJoinsASentBatch: a Load of a key whose read is already in
// flight reads it again, so its answer was read after it was called.
func TestNeverJoinsASentBatch(t *testing.T) {
	g := newGate(map[string]int{"a": 1})
	l := New(g.fetch, Config{MaxInFlight: 1})
	out := make(chan answer, 2)
	go load(l, "a", out)
	<-g.entered
	go load(l, "a", out)
	waitGathered(t, l, 1)
	g.set("a", 2) // changed after the first read began
	g.release <- struct{}{}
	first := <-out
	if got := <-g.entered; !slices.Equal(got, []string{"a"}) {
		t.Fatalf("second batch %v", got)
	}
	g.release <- struct{}{}
	second := <-out
	if first.v != 1 || second.v != 2 {
		t.Errorf("answers %d then %d, want 1 then 2", first.v, second.v)
	}
}

// TestFailureReachesEveryCaller: a failed Fetch is each caller's error,
// never a "not found".
func TestFailureReachesEveryCaller(t *testing.T) {
	boom := errors.New("database unavailable")
	g := newGate(map[string]int{"a": 1})
	g.err = boom
	l := New(g.fetch, Config{MaxInFlight: 1})
	out := make(chan answer, 3)
	go load(l, "a", out)
	<-g.entered
	go load(l, "b", out)
	go load(l, "a", out)
	waitGathered(t, l, 2)
	g.release <- struct{}{}
	<-g.entered
	g.release <- struct{}{}
	for range 3 {
		if a := <-out; !errors.Is(a.err, boom) || a.found {
			t.Errorf("Load(%q) = %v, %v; want the fetch's error", a.key, a.found, a.err)
		}
	}
}

// TestMaxBatchStartsAtOnce: a gathering batch that reaches MaxBatch is
// read without waiting for the batch in flight.
func TestMaxBatchStartsAtOnce(t *testing.T) {
	g := newGate(map[string]int{})
	l := New(g.fetch, Config{MaxInFlight: 1, MaxBatch: 3})
	out := make(chan answer, 10)
	go load(l, "x", out)
	<-g.entered
	for i := range 3 {
		go load(l, fmt.Sprint(i), out)
	}
	if got := <-g.entered; len(got) != 3 {
		t.Fatalf("second batch %v, want 3 keys", got)
	}
	g.release <- struct{}{}
	g.release <- struct{}{}
	for range 4 {
		if a := <-out; a.err != nil || a.found {
			t.Errorf("Load(%q) = %v, %v", a.key, a.found, a.err)
		}
	}
	waitIdle(t, l)
}

// waitIdle waits until l has no batch in flight nor gathering, as after
// every Load has returned (a batch's slot is given back just after its
// callers are woken).
func waitIdle(t *testing.T, l *Loader[string, int]) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		l.mu.Lock()
		inFlight, next := l.inFlight, l.next
		l.mu.Unlock()
		if inFlight == 0 && next == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after every load: %d in flight, gathering %v", inFlight, next)
		}
		waitABit()
	}
}

// TestCancelledCallerLeavesOthers: a caller whose context ends gets its
// error; the batch goes on for the others.
func TestCancelledCallerLeavesOthers(t *testing.T) {
	g := newGate(map[string]int{"a": 1, "b": 2})
	l := New(g.fetch, Config{MaxInFlight: 1})
	out := make(chan answer, 2)
	go load(l, "a", out)
	<-g.entered
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, _, err := l.Load(ctx, "b"); errc <- err }()
	go load(l, "b", out)
	waitGathered(t, l, 2)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Load: %v", err)
	}
	g.release <- struct{}{}
	<-g.entered
	g.release <- struct{}{}
	for range 2 {
		if a := <-out; a.err != nil || !a.found || a.v != map[string]int{"a": 1, "b": 2}[a.key] {
			t.Errorf("Load(%q) = %d, %v, %v", a.key, a.v, a.found, a.err)
		}
	}
}

type batchSizes struct {
	mu    sync.Mutex
	sizes map[string][]int
}

func (b *batchSizes) LoaderBatch(loader string, keys int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sizes[loader] = append(b.sizes[loader], keys)
}

// TestOnBatch: OnBatch is told each Fetch's distinct keys; Observe gives
// none for an observer that does not count batches.
func TestOnBatch(t *testing.T) {
	if Observe(struct{}{}, LoaderAPIKeys) != nil {
		t.Fatalf("Observe of a non-BatchObserver is not nil")
	}
	obs := &batchSizes{sizes: map[string][]int{}}
	fetch := func(_ context.Context, keys []string) (map[string]int, error) { return map[string]int{}, nil }
	l := New(fetch, Config{OnBatch: Observe(obs, LoaderAPIKeys)})
	for _, k := range []string{"a", "b"} {
		if _, _, err := l.Load(context.Background(), k); err != nil {
			t.Fatal(err)
		}
	}
	if got := obs.sizes[LoaderAPIKeys]; !slices.Equal(got, []int{1, 1}) {
		t.Errorf("batch sizes %v, want [1 1]", got)
	}
}

// TestPatience: with a slot free, Loads behind a batch in flight gather
// into one batch rather than each taking a slot; once the batch in flight
// has been out for Patience, the gathered batch takes the free slot
// without waiting for it. With a negative Patience a free slot is taken
// at once.
func TestPatience(t *testing.T) {
	t.Run("gathers behind a quick read", func(t *testing.T) {
		g := newGate(map[string]int{"a": 1, "b": 2, "c": 3})
		l := New(g.fetch, Config{MaxInFlight: 2, Patience: time.Hour})
		out := make(chan answer, 3)
		go load(l, "a", out)
		<-g.entered
		go load(l, "b", out)
		go load(l, "c", out)
		waitGathered(t, l, 2)
		g.release <- struct{}{}
		second := <-g.entered
		slices.Sort(second)
		if !slices.Equal(second, []string{"b", "c"}) {
			t.Fatalf("second batch %v, want [b c]", second)
		}
		g.release <- struct{}{}
		for range 3 {
			if a := <-out; a.err != nil || !a.found {
				t.Errorf("Load(%q) = %v, %v", a.key, a.found, a.err)
			}
		}
	})
	t.Run("a slow read", func(t *testing.T) {
		g := newGate(map[string]int{"a": 1, "b": 2})
		l := New(g.fetch, Config{MaxInFlight: 2, Patience: 20 * time.Millisecond})
		out := make(chan answer, 2)
		// The patience counts from when "a" was sent, which is after
		// this and may be well before the test sees it entered.
		sent := time.Now()
		go load(l, "a", out)
		<-g.entered
		go load(l, "b", out)
		select {
		case got := <-g.entered: // while "a" is still in flight
			if !slices.Equal(got, []string{"b"}) {
				t.Fatalf("second batch %v", got)
			}
			if waited := time.Since(sent); waited < 20*time.Millisecond {
				t.Errorf("the second batch went after %v, before the patience ran out", waited)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the gathered batch never took the free slot")
		}
		g.release <- struct{}{}
		g.release <- struct{}{}
		for range 2 {
			if a := <-out; a.err != nil || !a.found || a.v != map[string]int{"a": 1, "b": 2}[a.key] {
				t.Errorf("Load(%q) = %d, %v, %v", a.key, a.v, a.found, a.err)
			}
		}
		waitIdle(t, l)
	})
	t.Run("none", func(t *testing.T) {
		g := newGate(map[string]int{"a": 1, "b": 2})
		l := New(g.fetch, Config{MaxInFlight: 2, Patience: -1})
		out := make(chan answer, 2)
		go load(l, "a", out)
		<-g.entered
		go load(l, "b", out)
		if got := <-g.entered; !slices.Equal(got, []string{"b"}) {
			t.Fatalf("second batch %v", got)
		}
		g.release <- struct{}{}
		g.release <- struct{}{}
		for range 2 {
			if a := <-out; a.err != nil || !a.found {
				t.Errorf("Load(%q) = %v, %v", a.key, a.found, a.err)
			}
		}
	})
}
