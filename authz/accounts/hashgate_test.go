package accounts

import (
	"context"
	"errors"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
)

// TestHashGate: at most limit hashes run at once, queue more wait for a
// turn, and the rest are refused with ErrBusy at once; a waiter gives up
// when its wait or its context ends. (Not parallel: the gate is the
// process's.)
func TestHashGate(t *testing.T) {
	LimitHashing(2, 3, time.Minute)
	t.Cleanup(func() { LimitHashing(0, 0, 0) })

	const n = 12
	var (
		wg         sync.WaitGroup
		mu         sync.Mutex
		ok, busy   int
		start      = make(chan struct{})
		otherError error
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := HashPassword("correct horse battery")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrBusy):
				busy++
			default:
				otherError = err
			}
		}()
	}
	close(start)
	wg.Wait()
	if otherError != nil {
		t.Fatal(otherError)
	}
	if peak := HashPeak(); peak > 2 {
		t.Fatalf("%d hashes ran at once, limit 2", peak)
	}
	// Two run, three wait (long enough for their turn), the rest are
	// refused; a goroutine scheduled after the first finished may get a
	// turn too, so at least 5 succeed.
	if ok < 5 || ok+busy != n || busy == 0 {
		t.Fatalf("%d hashed, %d busy; want at least 5 hashed and the rest busy", ok, busy)
	}

	// A full gate with no queue refuses at once; a waiter whose wait or
	// context ends gives up.
	LimitHashing(1, -1, time.Second)
	release := HoldHashTurns(1)
	if _, err := CheckPassword(equalizerHash(), "x"); !errors.Is(err, ErrBusy) {
		t.Fatalf("full gate, no queue: %v", err)
	}
	release()
	if ok, err := CheckPassword(equalizerHash(), "keyward-timing-equalizer"); err != nil || ok {
		t.Fatalf("after release: %v %v (the equalizer matches no password)", ok, err)
	}
	LimitHashing(1, 1, 50*time.Millisecond)
	release = HoldHashTurns(1)
	defer release()
	began := time.Now()
	if _, err := HashPassword("correct horse battery"); !errors.Is(err, ErrBusy) || time.Since(began) < 50*time.Millisecond {
		t.Fatalf("waiter: %v after %v", err, time.Since(began))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := HashPasswordContext(ctx, "correct horse battery"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v", err)
	}
	if _, err := Authenticate(ctx, finder{}, "nobody", "whatever1"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Authenticate with no turn: %v, want the context's error, never bad credentials", err)
	}
}

type finder struct{}

func (finder) GetUserByUsername(context.Context, string) (*store.User, error) {
	return nil, store.ErrNotFound
}

// BenchmarkParallelLogins checks 100 sign-ins at once, as issue 14 asks:
// the gate keeps the hashes running at once near the core count, so the
// heap stays far under 512 MiB (reported as peak-MiB) while all of them
// are answered. Run with the Go memory limit as serve sets it by default
// (96 MiB, raised by HashMemory per running hash through WatchHashing),
// with no limit, and with a fixed 96 MiB limit (as a plain GOMEMLIMIT
// would be): the time per 100 sign-ins shows what the collector costs.
func BenchmarkParallelLogins(b *testing.B) {
	const limit = 96 << 20
	b.Run("serve-default-limit", func(b *testing.B) {
		before := debug.SetMemoryLimit(limit)
		var mu sync.Mutex
		WatchHashing(func() {
			mu.Lock()
			defer mu.Unlock()
			debug.SetMemoryLimit(limit + int64(HashesRunning())*HashMemory)
		})
		defer func() {
			WatchHashing(nil)
			debug.SetMemoryLimit(before)
		}()
		parallelLogins(b)
	})
	b.Run("no-limit", parallelLogins)
	b.Run("fixed-96MiB-limit", func(b *testing.B) {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(limit))
		parallelLogins(b)
	})
}

func parallelLogins(b *testing.B) {
	LimitHashing(0, 200, time.Minute)
	b.Cleanup(func() { LimitHashing(0, 0, 0) })
	hash, err := HashPassword("correct horse battery")
	if err != nil {
		b.Fatal(err)
	}
	var peak uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
	}()
	var gcBefore runtime.MemStats
	runtime.ReadMemStats(&gcBefore)
	for b.Loop() {
		var wg sync.WaitGroup
		for range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if ok, err := CheckPassword(hash, "correct horse battery"); err != nil || !ok {
					b.Error(ok, err)
				}
			}()
		}
		wg.Wait()
	}
	close(stop)
	<-sampled
	var gcAfter runtime.MemStats
	runtime.ReadMemStats(&gcAfter)
	b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
	b.ReportMetric(float64(HashPeak()), "peak-hashes")
	b.ReportMetric(float64(gcAfter.NumGC-gcBefore.NumGC)/float64(b.N), "GCs/op")
}

// TestWatchHashing: the watcher hears each hash start and end, and reads
// how many run (serve raises the memory limit by HashMemory for each).
func TestWatchHashing(t *testing.T) {
	var mu sync.Mutex
	var seen []int
	WatchHashing(func() {
		mu.Lock()
		seen = append(seen, HashesRunning())
		mu.Unlock()
	})
	defer WatchHashing(nil)
	if _, err := HashPassword("correct horse battery staple"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 || seen[0] < 1 || seen[1] != seen[0]-1 {
		t.Fatalf("the watcher saw %v running, want one more at the start than at the end", seen)
	}
}
