package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// load runs fn from conns goroutines for d (or until fn reports
// errPoolDone) and measures it, printing a progress line to progress
// (when not nil) twice a second. It follows the resident memory of each
// of watch (started here, sampled four times a second); the caller reads
// their peaks.
func load(ctx context.Context, name string, fn func() error, conns int, d time.Duration, progress io.Writer,
	watch ...*peakRSS) benchResult {
	for _, w := range watch {
		w.start()
	}
	var (
		n, errs atomic.Int64
		mu      sync.Mutex
		lat     []time.Duration
		wg      sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 4096)
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				err := fn()
				if errors.Is(err, errPoolDone) {
					break
				}
				if err != nil {
					errs.Add(1)
				}
				local = append(local, time.Since(t0))
				n.Add(1)
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for tick := 0; ; tick++ {
			select {
			case <-stop:
				return
			case <-t.C:
				for _, w := range watch {
					w.sample()
				}
				if progress != nil && tick%2 == 1 {
					el := time.Since(start)
					fmt.Fprintf(progress, "\r%-18s %9d requests  %8.0f/s  %d errors  %5.1fs ", name, n.Load(),
						float64(n.Load())/el.Seconds(), errs.Load(), el.Seconds())
				}
			}
		}
	}()
	wg.Wait()
	secs := time.Since(start).Seconds()
	close(stop)
	<-stopped
	if progress != nil {
		fmt.Fprintf(progress, "\r%-80s\r", "")
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(float64(len(lat))*p))]
	}
	return benchResult{Scenario: name, Requests: n.Load(), Errors: errs.Load(), Seconds: secs,
		PerSecond: float64(n.Load()) / secs, P50: pct(0.5), P99: pct(0.99), Connections: conns}
}
