package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store"
)

// APIKeyOpener returns a fresh, empty, migrated keys.Store; it registers
// its own cleanup with t.
type APIKeyOpener func(t *testing.T) keys.Store

// RunAPIKeys runs the keys.Store conformance suite against one engine:
// the store's own contract, then keys.Service on top of it (verify,
// revoke, roll with grace, expiry, scopes, rate limits, usage).
func RunAPIKeys(t *testing.T, open func(t *testing.T) keys.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s keys.Store)
	}{
		{"CRUD", testAPIKeysCRUD},
		{"BatchRead", testAPIKeysBatchRead},
		{"NotFound", testAPIKeysNotFound},
		{"Conflict", testAPIKeysConflict},
		{"Pagination", testAPIKeysPagination},
		{"Search", testAPIKeysSearch},
		{"Roll", testAPIKeysRoll},
		{"ConcurrentCreates", testAPIKeysConcurrentCreates},
		{"ConcurrentRolls", testAPIKeysConcurrentRolls},
		{"ConcurrentUsage", testAPIKeysConcurrentUsage},
		{"UsageRepeats", testAPIKeysUsageRepeats},
		{"UsageLargeBatch", testAPIKeysUsageLargeBatch},
		{"RateCounter", testAPIKeyRateCounter},
		{"Service/Lifecycle", testAPIKeyServiceLifecycle},
		{"Service/RollWithGrace", testAPIKeyServiceRoll},
		{"Service/ExpiryAndScope", testAPIKeyServiceExpiryScope},
		{"Service/RateLimit", testAPIKeyServiceRateLimit},
		{"Service/SharedRateLimit", testAPIKeyServiceSharedRateLimit},
		{"Service/BadInputsNoStoreCall", testAPIKeyServiceBadInputs},
		{"Service/Usage", testAPIKeyServiceUsage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

func digest(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func sampleAPIKey(id string, d byte) *keys.APIKey {
	return &keys.APIKey{
		ID: id, Env: keys.EnvLive, Name: "Key " + id, Hint: "kw_live_" + id + "_...abcd",
		OwnerType: keys.OwnerUser, OwnerID: "u1",
		Scopes:    []string{"read", "write"},
		Metadata:  map[string]string{"team": "core", "ticket": "KW-5"},
		RateLimit: keys.RateLimit{Limit: 100, Period: time.Minute},
		ExpiresAt: time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond),
		Secrets:   []keys.SecretDigest{{Digest: digest(d)}},
	}
}

func testAPIKeysCRUD(t *testing.T, s keys.Store) {
	k := sampleAPIKey("k1", 1)
	if err := s.CreateAPIKey(ctx(), k); err != nil {
		t.Fatal(err)
	}
	if k.CreatedAt.IsZero() || time.Since(k.CreatedAt) > time.Minute || !k.Secrets[0].CreatedAt.Equal(k.CreatedAt) {
		t.Fatalf("CreatedAt not set: %v / %v", k.CreatedAt, k.Secrets[0].CreatedAt)
	}
	got, err := s.GetAPIKey(ctx(), "k1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, k) {
		t.Fatalf("GetAPIKey:\n got %+v\nwant %+v", got, k)
	}

	k.Name, k.Scopes, k.Metadata, k.RateLimit, k.ExpiresAt = "Renamed", nil, nil, keys.RateLimit{}, time.Time{}
	k.Disabled, k.Hint = true, "ignored" // not written by UpdateAPIKey
	if err := s.UpdateAPIKey(ctx(), k); err != nil {
		t.Fatal(err)
	}
	got, err = s.GetAPIKey(ctx(), "k1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Renamed" || got.Scopes != nil || got.Metadata != nil || !got.RateLimit.Unlimited() ||
		!got.ExpiresAt.IsZero() || got.Disabled || got.Hint == "ignored" || !got.CreatedAt.Equal(k.CreatedAt) {
		t.Fatalf("after update: %+v", got)
	}

	if err := s.SetAPIKeyDisabled(ctx(), "k1", true); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.GetAPIKey(ctx(), "k1"); !got.Disabled {
		t.Fatal("not disabled")
	}
	if err := s.SetAPIKeyDisabled(ctx(), "k1", false); err != nil {
		t.Fatal(err)
	}

	first := time.Now().UTC().Truncate(time.Microsecond)
	if err := s.RevokeAPIKey(ctx(), "k1", first); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAPIKey(ctx(), "k1", first.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.GetAPIKey(ctx(), "k1"); got.Disabled || !got.RevokedAt.Equal(first) {
		t.Fatalf("revoked at %v, want the first revocation %v", got.RevokedAt, first)
	}

	lists, _, err := s.ListAPIKeys(ctx(), 10, "")
	if err != nil || len(lists) != 1 || lists[0].Secrets != nil || lists[0].Name != "Renamed" {
		t.Fatalf("ListAPIKeys: %+v, %v", lists, err)
	}

	if err := s.DeleteAPIKey(ctx(), "k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetAPIKey(ctx(), "k1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after delete: %v, want ErrNotFound", err)
	}
	// Its digest went with it.
	if err := s.CreateAPIKey(ctx(), sampleAPIKey("k2", 1)); err != nil {
		t.Fatalf("reusing a deleted key's digest: %v", err)
	}
}

func testAPIKeysNotFound(t *testing.T, s keys.Store) {
	now := time.Now()
	if _, err := s.GetAPIKey(ctx(), "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetAPIKey: %v", err)
	}
	for name, err := range map[string]error{
		"UpdateAPIKey":      s.UpdateAPIKey(ctx(), sampleAPIKey("nope", 1)),
		"SetAPIKeyDisabled": s.SetAPIKeyDisabled(ctx(), "nope", true),
		"RevokeAPIKey":      s.RevokeAPIKey(ctx(), "nope", now),
		"RollAPIKey":        s.RollAPIKey(ctx(), "nope", digest(2), "h", now),
		"DeleteAPIKey":      s.DeleteAPIKey(ctx(), "nope"),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}
	if err := s.RecordAPIKeyUsage(ctx(), []keys.Usage{{ID: "nope", Count: 1, LastUsedAt: now}}); err != nil {
		t.Errorf("RecordAPIKeyUsage of a missing key: %v", err)
	}
	if items, next, err := s.ListAPIKeys(ctx(), 0, ""); err != nil || len(items) != 0 || next != "" {
		t.Errorf("ListAPIKeys on empty: %v %q %v", items, next, err)
	}
}

func testAPIKeysConflict(t *testing.T, s keys.Store) {
	if err := s.CreateAPIKey(ctx(), sampleAPIKey("dup", 1)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAPIKey(ctx(), sampleAPIKey("dup", 2)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("same id: %v, want ErrConflict", err)
	}
	if err := s.CreateAPIKey(ctx(), sampleAPIKey("other", 1)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("same digest: %v, want ErrConflict", err)
	}
	if _, err := s.GetAPIKey(ctx(), "other"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a failed create left a row: %v", err)
	}
	if err := s.CreateAPIKey(ctx(), sampleAPIKey("other", 3)); err != nil {
		t.Fatal(err)
	}
	if err := s.RollAPIKey(ctx(), "other", digest(1), "h", time.Now()); !errors.Is(err, store.ErrConflict) {
		t.Errorf("roll to a taken digest: %v, want ErrConflict", err)
	}
	if got, _ := s.GetAPIKey(ctx(), "other"); len(got.Secrets) != 1 || !bytes.Equal(got.Secrets[0].Digest, digest(3)) {
		t.Errorf("a failed roll changed the secrets: %+v", got.Secrets)
	}
}

func testAPIKeysPagination(t *testing.T, s keys.Store) {
	// Mixed case: every engine orders ids by bytes, as the cursor does.
	ids := []string{"b2", "A1", "a1", "Z9", "09", "B2", "z0"}
	for i, id := range ids {
		if err := s.CreateAPIKey(ctx(), sampleAPIKey(id, byte(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(ids)
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > len(ids) {
			t.Fatal("pagination does not end")
		}
		items, next, err := s.ListAPIKeys(ctx(), 3, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range items {
			got = append(got, k.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("listed %v, want %v", got, ids)
	}
	if items, _, err := s.ListAPIKeys(ctx(), 0, ""); err != nil || len(items) != len(ids) {
		t.Fatalf("default limit: %d, %v", len(items), err)
	}
}

func testAPIKeysRoll(t *testing.T, s keys.Store) {
	if err := s.CreateAPIKey(ctx(), sampleAPIKey("r1", 1)); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	grace := now.Add(time.Hour)
	if err := s.RollAPIKey(ctx(), "r1", digest(2), "hint2", grace); err != nil {
		t.Fatal(err)
	}
	k, err := s.GetAPIKey(ctx(), "r1")
	if err != nil {
		t.Fatal(err)
	}
	if k.Hint != "hint2" || len(k.Secrets) != 2 ||
		!bytes.Equal(k.Secrets[0].Digest, digest(2)) || !k.Secrets[0].Current() ||
		!bytes.Equal(k.Secrets[1].Digest, digest(1)) || !k.Secrets[1].ValidUntil.Equal(grace) {
		t.Fatalf("after roll: hint %q secrets %+v", k.Hint, k.Secrets)
	}
	// A longer grace does not extend an earlier one; a shorter one cuts it.
	if err := s.RollAPIKey(ctx(), "r1", digest(3), "hint3", now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	k, _ = s.GetAPIKey(ctx(), "r1")
	if len(k.Secrets) != 3 || !k.Secrets[1].ValidUntil.Equal(now.Add(2*time.Hour)) || !k.Secrets[2].ValidUntil.Equal(grace) {
		t.Fatalf("after second roll: %+v", k.Secrets)
	}
	ended := now.Add(-time.Second)
	if err := s.RollAPIKey(ctx(), "r1", digest(4), "hint4", ended); err != nil {
		t.Fatal(err)
	}
	k, _ = s.GetAPIKey(ctx(), "r1")
	if len(k.Secrets) != 4 || !k.Secrets[0].Current() {
		t.Fatalf("after a roll without grace: %+v", k.Secrets)
	}
	for _, sec := range k.Secrets[1:] {
		if !sec.ValidUntil.Equal(ended) {
			t.Fatalf("previous secret valid until %v, want %v", sec.ValidUntil, ended)
		}
	}
	// The next roll forgets the secrets whose grace has ended.
	if err := s.RollAPIKey(ctx(), "r1", digest(5), "hint5", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	k, _ = s.GetAPIKey(ctx(), "r1")
	if len(k.Secrets) != 2 || !bytes.Equal(k.Secrets[1].Digest, digest(4)) {
		t.Fatalf("ended secrets kept: %+v", k.Secrets)
	}
	if err := s.RevokeAPIKey(ctx(), "r1", now); err != nil {
		t.Fatal(err)
	}
	if err := s.RollAPIKey(ctx(), "r1", digest(6), "hint6", now); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("roll of a revoked key: %v, want ErrConflict", err)
	}
}

func testAPIKeysConcurrentCreates(t *testing.T, s keys.Store) {
	const writers = 16
	var ok, confl atomic.Int32
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			err := s.CreateAPIKey(ctx(), sampleAPIKey(fmt.Sprintf("shared-%d", i%8), byte(i+1)))
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, store.ErrConflict):
				confl.Add(1)
			default:
				t.Errorf("concurrent create: %v", err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 8 || confl.Load() != 8 {
		t.Fatalf("%d created, %d conflicts; want 8 and 8", ok.Load(), confl.Load())
	}
}

func testAPIKeysConcurrentRolls(t *testing.T, s keys.Store) {
	if err := s.CreateAPIKey(ctx(), sampleAPIKey("cr", 1)); err != nil {
		t.Fatal(err)
	}
	const rollers = 8
	grace := time.Now().Add(time.Hour)
	var wg sync.WaitGroup
	for i := range rollers {
		wg.Go(func() {
			if err := s.RollAPIKey(ctx(), "cr", digest(byte(10+i)), "h", grace); err != nil {
				t.Errorf("concurrent roll: %v", err)
			}
		})
	}
	wg.Wait()
	k, err := s.GetAPIKey(ctx(), "cr")
	if err != nil {
		t.Fatal(err)
	}
	current := 0
	for _, sec := range k.Secrets {
		if sec.Current() {
			current++
		}
	}
	if current != 1 || len(k.Secrets) != rollers+1 {
		t.Fatalf("%d current of %d secrets; want 1 of %d", current, len(k.Secrets), rollers+1)
	}
}

func testAPIKeysConcurrentUsage(t *testing.T, s keys.Store) {
	for _, id := range []string{"u1", "u2"} {
		if err := s.CreateAPIKey(ctx(), sampleAPIKey(id, id[1])); err != nil {
			t.Fatal(err)
		}
	}
	base := time.Now().UTC().Truncate(time.Microsecond)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 10 {
				at := base.Add(time.Duration(i*10+j) * time.Second)
				// Both orders, so that engines must not deadlock.
				batch := []keys.Usage{{ID: "u1", Count: 1, LastUsedAt: at}, {ID: "u2", Count: 2, LastUsedAt: at}}
				if i%2 == 1 {
					slices.Reverse(batch)
				}
				if err := s.RecordAPIKeyUsage(ctx(), batch); err != nil {
					t.Errorf("RecordAPIKeyUsage: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	latest := base.Add(79 * time.Second)
	for id, want := range map[string]int64{"u1": 80, "u2": 160} {
		k, err := s.GetAPIKey(ctx(), id)
		if err != nil {
			t.Fatal(err)
		}
		if k.UsageCount != want || !k.LastUsedAt.Equal(latest) {
			t.Errorf("%s: usage %d last used %v; want %d, %v", id, k.UsageCount, k.LastUsedAt, want, latest)
		}
	}
	// Last-used never moves back.
	if err := s.RecordAPIKeyUsage(ctx(), []keys.Usage{{ID: "u1", Count: 1, LastUsedAt: base}}); err != nil {
		t.Fatal(err)
	}
	if k, _ := s.GetAPIKey(ctx(), "u1"); !k.LastUsedAt.Equal(latest) || k.UsageCount != 81 {
		t.Errorf("after an older usage: %v, %d", k.LastUsedAt, k.UsageCount)
	}
}

// testAPIKeysUsageRepeats: an id twice in one batch counts twice and its
// latest time wins; an older time never moves last-used back; a key that
// does not exist is ignored.
func testAPIKeysUsageRepeats(t *testing.T, s keys.Store) {
	for _, id := range []string{"u1", "u2"} {
		if err := s.CreateAPIKey(ctx(), sampleAPIKey(id, id[1])); err != nil {
			t.Fatal(err)
		}
	}
	base := time.Now().UTC().Truncate(time.Microsecond)
	latest, later := base.Add(79*time.Second), base.Add(80*time.Second)
	first := []keys.Usage{{ID: "u1", Count: 81, LastUsedAt: latest}, {ID: "u2", Count: 160, LastUsedAt: latest}}
	if err := s.RecordAPIKeyUsage(ctx(), first); err != nil {
		t.Fatal(err)
	}
	err := s.RecordAPIKeyUsage(ctx(), []keys.Usage{{ID: "u2", Count: 1, LastUsedAt: later},
		{ID: "u1", Count: 1, LastUsedAt: base}, {ID: "u2", Count: 4, LastUsedAt: base}, {ID: "gone", Count: 1, LastUsedAt: later}})
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := s.GetAPIKey(ctx(), "u2"); !k.LastUsedAt.Equal(later) || k.UsageCount != 165 {
		t.Errorf("after a batch naming u2 twice: %v, %d; want %v, 165", k.LastUsedAt, k.UsageCount, later)
	}
	if k, _ := s.GetAPIKey(ctx(), "u1"); !k.LastUsedAt.Equal(latest) || k.UsageCount != 82 {
		t.Errorf("u1 after that batch: %v, %d; want %v, 82", k.LastUsedAt, k.UsageCount, latest)
	}
}

// testAPIKeysUsageLargeBatch: a batch of a few thousand keys (more than
// one statement of the SQLite store) counts every key once, the key named
// at both ends twice, on its own and inside a transaction.
func testAPIKeysUsageLargeBatch(t *testing.T, s keys.Store) {
	const n = 4100
	id := func(i int) string { return fmt.Sprintf("big%05d", i) }
	create := func(ctx context.Context) error {
		for i := range n {
			k := sampleAPIKey(id(i), 0)
			k.Secrets = []keys.SecretDigest{{Digest: bytes.Repeat([]byte(fmt.Sprintf("%08d", i)), 4)}}
			if err := s.CreateAPIKey(ctx, k); err != nil {
				return err
			}
		}
		return nil
	}
	tx, inTx := s.(interface {
		InTx(context.Context, func(context.Context) error) error
	})
	var err error
	if inTx {
		err = tx.InTx(ctx(), create)
	} else {
		err = create(ctx())
	}
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Truncate(time.Microsecond)
	batch := make([]keys.Usage, 0, n+1)
	for i := range n {
		batch = append(batch, keys.Usage{ID: id(i), Count: 1, LastUsedAt: at.Add(time.Duration(i) * time.Microsecond)})
	}
	batch = append(batch, keys.Usage{ID: id(0), Count: 1, LastUsedAt: at.Add(-time.Second)})
	check := func(rounds int64) {
		t.Helper()
		for _, i := range []int{0, 1, 1999, 2000, 2001, 3999, 4000, n - 1} {
			k, err := s.GetAPIKey(ctx(), id(i))
			if err != nil {
				t.Fatal(err)
			}
			want := rounds
			if i == 0 {
				want = 2 * rounds
			}
			if k.UsageCount != want || !k.LastUsedAt.Equal(at.Add(time.Duration(i)*time.Microsecond)) {
				t.Errorf("key %d after %d batches: used %d times, last %v; want %d, %v", i, rounds, k.UsageCount,
					k.LastUsedAt, want, at.Add(time.Duration(i)*time.Microsecond))
			}
		}
	}
	if err := s.RecordAPIKeyUsage(ctx(), batch); err != nil {
		t.Fatal(err)
	}
	check(1)
	if !inTx {
		return
	}
	if err := tx.InTx(ctx(), func(ctx context.Context) error { return s.RecordAPIKeyUsage(ctx, batch) }); err != nil {
		t.Fatal(err)
	}
	check(2)
}
