package keys

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingStore counts the key reads that reach the store.
type countingStore struct {
	*memStore
	reads atomic.Int64
	down  atomic.Bool // reads fail as an unreachable database's do
}

func (c *countingStore) GetAPIKey(ctx context.Context, id string) (*APIKey, error) {
	c.reads.Add(1)
	if c.down.Load() {
		return nil, errors.New("database is down")
	}
	return c.memStore.GetAPIKey(ctx, id)
}

// TestRolledKeyOnOtherInstance: an instance that cached a key before
// another instance rolled it (and missed the announcement) verifies the
// new secret at once, by re-reading the record once a secret matches
// none of it; wrong secrets cost at most one read per key per staleAfter.
func TestRolledKeyOnOtherInstance(t *testing.T) {
	mem := newMemStore()
	st := &countingStore{memStore: mem}
	clock := newClock()
	// Two services on one store whose events do not reach each other.
	a := newFixture(t, func(c *Config) { c.Store, c.Now, c.Events = st, clock.Now, &localEvents{} })
	b := newFixture(t, func(c *Config) { c.Store, c.Now, c.Events = st, clock.Now, &localEvents{} })
	k, oldRaw := b.create(t, CreateParams{Name: "rolled"})
	wantCode(t, a.verify(t, oldRaw, ""), CodeValid) // a caches the key
	clock.Add(2 * staleAfter)
	_, newRaw, err := b.svc.Roll(context.Background(), k.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	reads := st.reads.Load()
	wantCode(t, a.verify(t, newRaw, ""), CodeValid)
	if n := st.reads.Load() - reads; n != 1 {
		t.Errorf("%d store reads to learn the roll; want 1", n)
	}
	wantCode(t, a.verify(t, oldRaw, ""), CodeValid) // still in its grace period

	// Wrong secrets for the known id: no read within staleAfter of the last.
	p, _ := Parse(newRaw)
	wrong := format(p.Env, p.ID, strings.Repeat("A", SecretLen))
	reads = st.reads.Load()
	for range 20 {
		wantCode(t, a.verify(t, wrong, ""), CodeNotFound)
	}
	if n := st.reads.Load() - reads; n != 0 {
		t.Errorf("%d store reads for wrong secrets within staleAfter of a read; want 0", n)
	}
	clock.Add(staleAfter)
	wantCode(t, a.verify(t, wrong, ""), CodeNotFound)
	wantCode(t, a.verify(t, wrong, ""), CodeNotFound)
	if n := st.reads.Load() - reads; n != 1 {
		t.Errorf("%d store reads for wrong secrets after staleAfter; want 1", n)
	}
}

// TestRereadDuringOutage: a wrong secret for a cached key while the store
// is down is an error (the answer is unknown), and the cached record stays:
// the key's own secret still verifies from the cache.
func TestRereadDuringOutage(t *testing.T) {
	st := &countingStore{memStore: newMemStore()}
	clock := newClock()
	f := newFixture(t, func(c *Config) { c.Store, c.Now = st, clock.Now })
	_, raw := f.create(t, CreateParams{Name: "k"})
	wantCode(t, f.verify(t, raw, ""), CodeValid)
	clock.Add(2 * staleAfter)
	st.down.Store(true)
	p, _ := Parse(raw)
	wrong := format(p.Env, p.ID, strings.Repeat("A", SecretLen))
	if _, err := f.svc.Verify(context.Background(), wrong, ""); err == nil {
		t.Error("a wrong secret during an outage answered instead of failing")
	}
	for range 3 {
		wantCode(t, f.verify(t, raw, ""), CodeValid)
	}
}

// TestRereadAfterInvalidation: a secret that matched none of a record the
// cache has dropped since it handed it out (an invalidation heard between
// the get and the re-read, as when another instance rolls the key) reads
// the key as it is now, at once, even within staleAfter of the record's
// load; a record still cached is not read again within staleAfter.
func TestRereadAfterInvalidation(t *testing.T) {
	c, _, rs := newRefreshFixture()
	ctx := context.Background()
	if _, err := c.get(ctx, "k", rs.fetch); err != nil {
		t.Fatal(err)
	}
	if _, read, err := c.reread(ctx, "k", rs.fetch); read || err != nil {
		t.Fatalf("re-read of a record loaded just now: read %v, %v", read, err)
	}
	c.invalidate("k") // heard after the get handed the old record out
	k, read, err := c.reread(ctx, "k", rs.fetch)
	if err != nil || !read {
		t.Fatalf("re-read of a dropped record: read %v, %v", read, err)
	}
	if k.OwnerID != "read-2" || rs.count() != 2 {
		t.Errorf("re-read gave %s after %d reads; want read-2 after 2", k.OwnerID, rs.count())
	}
	if _, read, _ := c.reread(ctx, "k", rs.fetch); read || rs.count() != 2 {
		t.Errorf("a second re-read within staleAfter read again (%d reads)", rs.count())
	}
}
