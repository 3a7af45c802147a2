package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
)

// testDPoPReplay: a proof key is fresh once; expired entries are pruned.
func testDPoPReplay(t *testing.T, s store.Store) {
	now := time.Now()
	fresh, err := s.UseDPoPProof(ctx(), "k1", now.Add(time.Minute))
	if err != nil || !fresh {
		t.Fatalf("first use = %v, %v; want fresh", fresh, err)
	}
	fresh, err = s.UseDPoPProof(ctx(), "k1", now.Add(time.Minute))
	if err != nil || fresh {
		t.Fatalf("second use = %v, %v; want a replay", fresh, err)
	}
	if fresh, err := s.UseDPoPProof(ctx(), "k2", now.Add(-time.Minute)); err != nil || !fresh {
		t.Fatalf("other key = %v, %v; want fresh", fresh, err)
	}
	n, err := s.DeleteExpiredDPoPProofs(ctx(), now)
	if err != nil || n != 1 {
		t.Fatalf("DeleteExpiredDPoPProofs = %d, %v; want 1", n, err)
	}
	if fresh, _ := s.UseDPoPProof(ctx(), "k1", now.Add(time.Minute)); fresh {
		t.Fatal("pruning removed an entry that had not expired")
	}
}

// testDPoPReplayRace: of many writers racing with one key (two instances
// given one proof), exactly one sees it fresh.
func testDPoPReplayRace(t *testing.T, s store.Store) {
	exp := time.Now().Add(time.Minute)
	for round := range 3 {
		key := fmt.Sprintf("race-%d", round)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				fresh, err := s.UseDPoPProof(ctx(), key, exp)
				if err != nil {
					t.Error(err)
				}
				if fresh {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Fatalf("round %d: %d writers saw the proof fresh, want exactly 1", round, n)
		}
	}
}
