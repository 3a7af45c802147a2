package keys

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"
)

// batchStore is a memStore that also reads in batches; while held, each
// batch read takes its answer from the store when it begins, reports its
// ids on entered and waits for release.
type batchStore struct {
	*memStore
	held    bool // set before, and cleared after, the reads it holds
	entered chan []string
	release chan struct{}
}

var _ BatchStore = (*batchStore)(nil)

func newBatchStore(m *memStore) *batchStore {
	return &batchStore{memStore: m, entered: make(chan []string, 16), release: make(chan struct{}, 16)}
}

func (b *batchStore) GetAPIKeys(_ context.Context, ids []string) (map[string]*APIKey, error) {
	b.calls.Add(1)
	b.mu.Lock()
	out := map[string]*APIKey{}
	for _, id := range ids {
		if k, ok := b.keys[id]; ok {
			out[id] = clone(k)
		}
	}
	b.mu.Unlock()
	if b.held {
		b.entered <- ids
		<-b.release
	}
	return out, nil
}

// waitGathering waits until n verifications wait for the batch that is
// gathering.
func waitGathering(s *Service, n int) {
	for s.loader.Gathering() < n {
		runtime.Gosched()
	}
}

// TestBatchedVerifyMatchesSingle: keys verified together in one batched
// read get exactly the answers that one read per key gives, missing,
// revoked, disabled, expired and rolled keys included.
func TestBatchedVerifyMatchesSingle(t *testing.T) {
	f := newFixture(t, nil) // one read per key: memStore has no GetAPIKeys
	ctx := context.Background()
	var raws []string
	add := func(p CreateParams) string {
		k, raw := f.create(t, p)
		raws = append(raws, raw)
		return k.ID
	}
	add(CreateParams{Scopes: []string{"read"}})
	add(CreateParams{Scopes: []string{"write"}})
	if err := f.svc.Revoke(ctx, add(CreateParams{})); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Disable(ctx, add(CreateParams{})); err != nil {
		t.Fatal(err)
	}
	add(CreateParams{ExpiresIn: time.Minute})
	rolled := add(CreateParams{Scopes: []string{"read"}})
	if _, raw, err := f.svc.Roll(ctx, rolled, time.Hour); err != nil {
		t.Fatal(err)
	} else {
		raws = append(raws, raw)
	}
	if err := f.svc.Delete(ctx, add(CreateParams{})); err != nil { // well-formed, no longer stored
		t.Fatal(err)
	}
	f.clock.Add(2 * time.Minute)

	bs := newBatchStore(f.store)
	bs.held = true
	batched, err := New(Config{Store: bs, Secret: testSecretKey, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer batched.Close()
	// Two verifications hold both read slots; the rest gather meanwhile.
	_, blocker1 := f.create(t, CreateParams{})
	_, blocker2 := f.create(t, CreateParams{})
	var wg sync.WaitGroup
	for _, raw := range []string{blocker1, blocker2} {
		wg.Go(func() { batched.Verify(ctx, raw, "") })
		<-bs.entered
	}
	got := make([]Result, len(raws))
	for i, raw := range raws {
		wg.Go(func() {
			r, err := batched.Verify(ctx, raw, "read")
			if err != nil {
				t.Error(err)
			}
			got[i] = r
		})
	}
	// The rolled key's two secrets share one read of its id (the cache
	// waits for a load of the id already under way).
	ids := len(raws) - 1
	waitGathering(batched, ids)
	bs.release <- struct{}{}
	if got := <-bs.entered; len(got) != ids {
		t.Errorf("the gathered batch read %d ids, want %d", len(got), ids)
	}
	bs.release <- struct{}{}
	bs.release <- struct{}{}
	wg.Wait()
	for i, raw := range raws {
		want, err := f.svc.Verify(ctx, raw, "read")
		if err != nil {
			t.Fatal(err)
		}
		if got[i].Code != want.Code || got[i].Valid != want.Valid {
			t.Errorf("key %d: batched %s, single %s", i, got[i].Code, want.Code)
		}
	}
	codes := map[Code]int{}
	for _, r := range got {
		codes[r.Code]++
	}
	if codes[CodeValid] != 3 || codes[CodeInsufficientScope] != 1 || codes[CodeRevoked] != 2 ||
		codes[CodeExpired] != 1 || codes[CodeNotFound] != 1 {
		t.Errorf("answers %v", codes)
	}
}

// TestRevocationWinsOverBatchedFill: a revocation while a batched read of
// the key is in flight keeps that read out of the cache, and a
// verification after the revocation does not wait for the stale read.
func TestRevocationWinsOverBatchedFill(t *testing.T) {
	m := newMemStore()
	bs := newBatchStore(m)
	clk := newClock()
	svc, err := New(Config{Store: bs, Secret: testSecretKey, Now: clk.Now, Events: &localEvents{}})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	ctx := context.Background()
	k, raw, err := svc.Create(ctx, CreateParams{Name: "k"})
	if err != nil {
		t.Fatal(err)
	}
	bs.held = true
	stale := make(chan Result, 1)
	go func() {
		r, _ := svc.Verify(ctx, raw, "")
		stale <- r
	}()
	<-bs.entered // read the key as valid
	if err := svc.Revoke(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	fresh := make(chan Result, 1)
	go func() {
		r, _ := svc.Verify(ctx, raw, "")
		fresh <- r
	}()
	<-bs.entered // a read of its own, begun after the revocation
	bs.release <- struct{}{}
	bs.release <- struct{}{}
	<-stale // read before the revocation: either answer is right
	if r := <-fresh; r.Code != CodeRevoked {
		t.Fatalf("verification after the revocation: %s", r.Code)
	}
	bs.held = false
	if r, err := svc.Verify(ctx, raw, ""); err != nil || r.Code != CodeRevoked {
		t.Fatalf("verification after both reads: %s, %v (the stale read was cached)", r.Code, err)
	}
}
