package keys

import (
	"reflect"
	"testing"
	"time"
)

// TestPackRoundTrip: a cached key unpacks to the fields the cache keeps,
// whether it packs whole (the usual key: one current secret, times in
// nanosecond range) or keeps what does not fit apart.
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
	cases := []struct {
		name   string
		change func(k *APIKey)
		packs  bool
	}{
		{"usual", func(*APIKey) {}, true},
		{"expiring, revoked, disabled", func(k *APIKey) {
			k.ExpiresAt, k.RevokedAt, k.Disabled = now.Add(time.Hour), now.Add(-time.Hour), true
		}, true},
		{"no owner, no scopes, no limit", func(k *APIKey) { k.OwnerType, k.OwnerID, k.Scopes, k.RateLimit = "", "", nil, RateLimit{} }, true},
		{"zero creation time", func(k *APIKey) { k.Secrets[0].CreatedAt = time.Time{} }, true},
		{"rolled: two secrets", func(k *APIKey) {
			k.Secrets = []SecretDigest{{Digest: digest(2, 32), CreatedAt: now},
				{Digest: digest(1, 32), CreatedAt: now.Add(-time.Hour), ValidUntil: now.Add(time.Hour)}}
		}, false},
		{"one secret with an end of grace", func(k *APIKey) { k.Secrets[0].ValidUntil = now.Add(time.Hour) }, false},
		{"a digest of another size", func(k *APIKey) { k.Secrets[0].Digest = digest(3, 48) }, false},
		{"no secret", func(k *APIKey) { k.Secrets = nil }, false},
		{"expiry past 2262", func(k *APIKey) { k.ExpiresAt = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) }, false},
		{"revoked at the epoch", func(k *APIKey) { k.RevokedAt = time.Unix(0, 0).UTC() }, false},
		{"created before 1678", func(k *APIKey) { k.Secrets[0].CreatedAt = time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC) }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := base()
			tc.change(k)
			p := pack(k, scopeSets{}.intern)
			if packs := p.odd == nil; packs != tc.packs {
				t.Fatalf("packed whole: %v, want %v", packs, tc.packs)
			}
			if p.odd != nil && p.weight() <= pack(base(), scopeSets{}.intern).weight() {
				t.Errorf("a key kept apart weighs %d, no more than a packed one", p.weight())
			}
			got := p.unpack()
			want := &APIKey{ID: k.ID, Env: k.Env, OwnerType: k.OwnerType, OwnerID: k.OwnerID, Scopes: k.Scopes,
				RateLimit: k.RateLimit, ExpiresAt: k.ExpiresAt, Disabled: k.Disabled, RevokedAt: k.RevokedAt,
				Secrets: k.Secrets}
			if !got.ExpiresAt.Equal(want.ExpiresAt) || !got.RevokedAt.Equal(want.RevokedAt) {
				t.Errorf("times %v, %v; want %v, %v", got.ExpiresAt, got.RevokedAt, want.ExpiresAt, want.RevokedAt)
			}
			if len(got.Secrets) != len(want.Secrets) {
				t.Fatalf("%d secrets, want %d", len(got.Secrets), len(want.Secrets))
			}
			for i := range want.Secrets {
				g, w := got.Secrets[i], want.Secrets[i]
				if string(g.Digest) != string(w.Digest) || !g.CreatedAt.Equal(w.CreatedAt) || !g.ValidUntil.Equal(w.ValidUntil) {
					t.Errorf("secret %d: %+v, want %+v", i, g, w)
				}
			}
			got.ExpiresAt, got.RevokedAt, got.Secrets = want.ExpiresAt, want.RevokedAt, want.Secrets
			if !reflect.DeepEqual(got, want) {
				t.Errorf("unpacked %+v\nwant %+v", got, want)
			}
		})
	}
}
