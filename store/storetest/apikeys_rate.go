package storetest

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/clocktest"
)

// rateCounter returns s as a keys.RateCounter; every engine must be one.
func rateCounter(t *testing.T, s keys.Store) keys.RateCounter {
	t.Helper()
	rc, ok := s.(keys.RateCounter)
	if !ok {
		t.Fatalf("%T does not implement keys.RateCounter", s)
	}
	return rc
}

func testAPIKeyRateCounter(t *testing.T, s keys.Store) {
	rc := rateCounter(t, s)
	w0 := time.Now().UTC().Truncate(time.Minute)
	w1 := w0.Add(time.Minute)
	add := func(want []int64, hits ...keys.Hits) {
		t.Helper()
		got, err := rc.AddAPIKeyHits(ctx(), hits)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("AddAPIKeyHits = %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("AddAPIKeyHits = %v, want %v", got, want)
			}
		}
	}
	hit := func(id string, start time.Time, n int64) keys.Hits {
		return keys.Hits{KeyID: id, Start: start, End: start.Add(time.Minute), Count: n}
	}
	add([]int64{0}, hit("k1", w0, 0)) // a read of a window never counted
	add([]int64{3, 1}, hit("k1", w0, 3), hit("k2", w0, 1))
	add([]int64{1, 5, 0}, hit("k2", w0, 0), hit("k1", w0, 2), hit("k1", w1, 0)) // results in the order asked
	add([]int64{4}, hit("k1", w1, 4))
	// A window of another period starting at the same time is another window.
	hour := keys.Hits{KeyID: "k1", Start: w0, End: w0.Add(time.Hour), Count: 2}
	add([]int64{2, 5}, hour, hit("k1", w0, 0))
	if got, err := rc.AddAPIKeyHits(ctx(), nil); err != nil || len(got) != 0 {
		t.Fatalf("empty batch: %v, %v", got, err)
	}

	// Concurrent instances lose no count.
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				if _, err := rc.AddAPIKeyHits(ctx(), []keys.Hits{hit("k3", w0, 1), hit("k1", w0, 1)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	add([]int64{80, 85}, hit("k3", w0, 0), hit("k1", w0, 0))

	// Pruning drops the windows that ended, and only those.
	if err := rc.PruneAPIKeyHits(ctx(), w1); err != nil {
		t.Fatal(err)
	}
	add([]int64{0, 4}, hit("k1", w0, 0), hit("k1", w1, 0))
}

// testAPIKeyServiceSharedRateLimit runs two Services on one store, as two
// instances: once each has shared its counts, a key's limit holds for
// both together.
func testAPIKeyServiceSharedRateLimit(t *testing.T, s keys.Store) {
	rc := rateCounter(t, s)
	clk := clocktest.At(time.Now().UTC().Truncate(time.Hour).Add(time.Minute))
	instance := func() *keys.Service {
		svc, err := keys.New(keys.Config{Store: s, RateCounter: rc, Secret: keys.Secret(bytes.Repeat([]byte("k"), 32)), Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { svc.Close() })
		return svc
	}
	a, b := instance(), instance()
	_, raw, err := a.Create(ctx(), keys.CreateParams{Name: "shared", RateLimit: keys.RateLimit{Limit: 5, Period: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	expect := func(svc *keys.Service, want keys.Code, remaining int) {
		t.Helper()
		r, err := svc.Verify(ctx(), raw, "")
		if err != nil {
			t.Fatal(err)
		}
		if r.Code != want || r.RateLimit == nil || r.RateLimit.Remaining != remaining {
			t.Fatalf("Verify = %s %+v; want %s with %d remaining", r.Code, r.RateLimit, want, remaining)
		}
	}
	sync := func(svcs ...*keys.Service) {
		t.Helper()
		for _, svc := range svcs {
			if err := svc.SyncRateLimits(ctx()); err != nil {
				t.Fatal(err)
			}
		}
	}
	expect(a, keys.CodeValid, 4)
	expect(a, keys.CodeValid, 3)
	expect(a, keys.CodeValid, 2)
	expect(b, keys.CodeValid, 4) // b has not heard of a's calls yet
	sync(a, b, a)
	expect(b, keys.CodeValid, 0) // 3 + 1 shared, this is the fifth
	sync(b, a)
	expect(a, keys.CodeRateLimited, 0)
	expect(b, keys.CodeRateLimited, 0)

	// The next window starts afresh on both. An instance learns of the
	// others' calls in a window at its first sync after its own first call
	// in it.
	clk.Add(time.Hour)
	expect(a, keys.CodeValid, 4)
	sync(a)
	expect(b, keys.CodeValid, 4)
	sync(b, a)
	expect(a, keys.CodeValid, 2)
}
