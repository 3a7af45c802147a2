package keys

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
)

// countingObserver counts what an Observer is told.
type countingObserver struct {
	mu           sync.Mutex
	codes        map[Code]int
	hits, misses int
}

func (o *countingObserver) Verified(c Code) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.codes[c]++
}

func (o *countingObserver) CacheLookup(hit bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if hit {
		o.hits++
	} else {
		o.misses++
	}
}

// downStore fails every read, as an unreachable database does.
type downStore struct{ *memStore }

func (downStore) GetAPIKey(context.Context, string) (*APIKey, error) {
	return nil, store.ErrUnavailable
}

// TestObserver: each Verify is counted by its code (a store failure as
// the empty code), Inspect is not, and every cache lookup is a hit or a
// miss.
func TestObserver(t *testing.T) {
	obs := &countingObserver{codes: map[Code]int{}}
	f := newFixture(t, func(c *Config) { c.Observer = obs })
	_, raw := f.create(t, CreateParams{Scopes: []string{"read"}, RateLimit: RateLimit{Limit: 2, Period: time.Minute}})
	f.verify(t, raw, "read")          // miss: loaded, VALID
	f.verify(t, raw, "write")         // hit: INSUFFICIENT_SCOPE
	f.verify(t, raw, "")              // hit: RATE_LIMITED (the third call of 2 a minute)
	f.verify(t, raw[:len(raw)-1], "") // malformed: NOT_FOUND, no lookup
	unknown := format(EnvLive, strings.Repeat("Z", IDLen), strings.Repeat("A", SecretLen))
	f.verify(t, unknown, "")                                            // miss, remembered as unknown
	f.verify(t, unknown, "")                                            // hit
	if _, err := f.svc.Inspect(context.Background(), raw); err != nil { // hit, not a verification
		t.Fatal(err)
	}
	want := map[Code]int{CodeValid: 1, CodeInsufficientScope: 1, CodeRateLimited: 1, CodeNotFound: 3}
	for _, c := range Codes {
		if obs.codes[c] != want[c] {
			t.Errorf("%s: %d; want %d", c, obs.codes[c], want[c])
		}
	}
	if obs.hits != 4 || obs.misses != 2 {
		t.Errorf("cache: %d hits, %d misses; want 4, 2", obs.hits, obs.misses)
	}

	down := &countingObserver{codes: map[Code]int{}}
	g := newFixture(t, func(c *Config) { c.Store, c.Observer = downStore{newMemStore()}, down })
	if _, err := g.svc.Verify(context.Background(), unknown, ""); err == nil {
		t.Fatal("Verify during an outage answered")
	}
	if down.codes[""] != 1 || len(down.codes) != 1 {
		t.Errorf("a store failure was counted as %v; want the empty code once", down.codes)
	}
}

// TestNilObserverCostsNothing: without an Observer a cached verification
// allocates only the record it answers with (the cache keeps keys packed,
// packedKey, and unpacks the one asked for: 313 bytes a key instead of 748).
func TestNilObserverCostsNothing(t *testing.T) {
	f := newFixture(t, nil)
	_, raw := f.create(t, CreateParams{})
	f.verify(t, raw, "")
	ctx := context.Background()
	if n := testing.AllocsPerRun(100, func() { f.svc.Verify(ctx, raw, "") }); n != 1 {
		t.Fatalf("%v allocations per cached Verify", n)
	}
}
