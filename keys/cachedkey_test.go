package keys

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestPackRoundTrip: a cached key comes back from the cache with the
// fields the cache keeps, whether it packs into a slab's slot (the usual
// key, and a rolled one: at most two secrets, times in nanosecond range,
// short strings), packs whole into the odd store's record, or keeps what
// does not fit apart there.
func TestPackRoundTrip(t *testing.T) {
	now := time.Date(2026, 12, 7, 4, 5, 6, 789, time.UTC)
	digest := func(b byte, n int) []byte {
		d := make([]byte, n)
		for i := range d {
			d[i] = b + byte(i)
		}
		return d
	}
	base := func() *APIKey {
		return &APIKey{ID: "0123456789abcdefghijkl", Env: EnvLive, OwnerType: "user", OwnerID: "u1",
			Scopes: []string{"read", "write"}, RateLimit: RateLimit{Limit: 5, Period: time.Minute},
			Secrets: []SecretDigest{{Digest: digest(1, 32), CreatedAt: now}}}
	}
	const slab, whole, apart = "slab", "odd store, packed whole", "odd store, apart"
	cases := []struct {
		name   string
		change func(k *APIKey)
		where  string
	}{
		{"usual", func(*APIKey) {}, slab},
		{"expiring, revoked, disabled", func(k *APIKey) {
			k.ExpiresAt, k.RevokedAt, k.Disabled = now.Add(time.Hour), now.Add(-time.Hour), true
		}, slab},
		{"no owner, no scopes, no limit", func(k *APIKey) { k.OwnerType, k.OwnerID, k.Scopes, k.RateLimit = "", "", nil, RateLimit{} }, slab},
		{"zero creation time", func(k *APIKey) { k.Secrets[0].CreatedAt = time.Time{} }, slab},
		{"rolled: two secrets", func(k *APIKey) {
			k.Secrets = []SecretDigest{{Digest: digest(2, 32), CreatedAt: now},
				{Digest: digest(1, 32), CreatedAt: now.Add(-time.Hour), ValidUntil: now.Add(time.Hour)}}
		}, slab},
		{"one secret with an end of grace", func(k *APIKey) { k.Secrets[0].ValidUntil = now.Add(time.Hour) }, slab},
		{"no secret", func(k *APIKey) { k.Secrets = nil }, slab},
		{"strings that just fit", func(k *APIKey) {
			k.OwnerID = strings.Repeat("o", slotText-len(k.ID)-len(k.Env)-len(k.OwnerType))
		}, slab},
		{"a long owner id", func(k *APIKey) { k.OwnerID = strings.Repeat("o", slotText) }, whole},
		{"three secrets", func(k *APIKey) {
			k.Secrets = []SecretDigest{{Digest: digest(3, 32), CreatedAt: now},
				{Digest: digest(2, 32), CreatedAt: now.Add(-time.Hour), ValidUntil: now.Add(time.Hour)},
				{Digest: digest(1, 32), CreatedAt: now.Add(-2 * time.Hour), ValidUntil: now.Add(time.Minute)}}
		}, apart},
		{"a digest of another size", func(k *APIKey) { k.Secrets[0].Digest = digest(3, 48) }, apart},
		{"expiry past 2262", func(k *APIKey) { k.ExpiresAt = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) }, apart},
		{"revoked at the epoch", func(k *APIKey) { k.RevokedAt = time.Unix(0, 0).UTC() }, apart},
		{"created before 1678", func(k *APIKey) { k.Secrets[0].CreatedAt = time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC) }, apart},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := base()
			tc.change(k)
			p := pack(k, newScopeTable().internList)
			where := apart
			switch {
			case packs(k):
				where = slab
			case p.odd == nil:
				where = whole
			}
			if where != tc.where {
				t.Fatalf("kept in the %s, want the %s", where, tc.where)
			}
			if p.odd != nil && p.weight() <= pack(base(), newScopeTable().internList).weight() {
				t.Errorf("a key kept apart weighs %d, no more than a packed one", p.weight())
			}
			sameRecord(t, "packedKey", p.unpack(), k)

			c := newCache(time.Minute, time.Second, DefaultCacheBytes, time.Now)
			fetch := func(context.Context, string) (*APIKey, error) { return k, nil }
			if _, err := c.get(context.Background(), k.ID, fetch); err != nil {
				t.Fatal(err)
			}
			if inSlab := c.slab.len() == 1; inSlab != (where == slab) || c.len() != 1 {
				t.Fatalf("the slab holds %d keys, the whole cache %d", c.slab.len(), c.len())
			}
			got, err := c.get(context.Background(), k.ID, func(context.Context, string) (*APIKey, error) {
				t.Fatal("a cached key was read again")
				return nil, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			sameRecord(t, "cached", got, k)
		})
	}
}

// sameRecord fails t unless got is k's record as the cache keeps it:
// k's fields that verification reads, the descriptive ones zero.
func sameRecord(t *testing.T, what string, got, k *APIKey) {
	t.Helper()
	want := k.VerificationView()
	if !got.ExpiresAt.Equal(want.ExpiresAt) || !got.RevokedAt.Equal(want.RevokedAt) {
		t.Errorf("%s: times %v, %v; want %v, %v", what, got.ExpiresAt, got.RevokedAt, want.ExpiresAt, want.RevokedAt)
	}
	if len(got.Secrets) != len(want.Secrets) {
		t.Fatalf("%s: %d secrets, want %d", what, len(got.Secrets), len(want.Secrets))
	}
	for i := range want.Secrets {
		g, w := got.Secrets[i], want.Secrets[i]
		if string(g.Digest) != string(w.Digest) || !g.CreatedAt.Equal(w.CreatedAt) || !g.ValidUntil.Equal(w.ValidUntil) {
			t.Errorf("%s: secret %d: %+v, want %+v", what, i, g, w)
		}
	}
	copied := *got
	copied.ExpiresAt, copied.RevokedAt, copied.Secrets = want.ExpiresAt, want.RevokedAt, want.Secrets
	if !reflect.DeepEqual(&copied, want) {
		t.Errorf("%s: %+v\nwant %+v", what, &copied, want)
	}
}
