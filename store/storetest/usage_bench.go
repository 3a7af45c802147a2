package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store"
)

// BenchUsageScattered measures one usage flush chunk as the service
// writes it after a tour of many keys: the counts of 10,000 keys drawn at
// random among n, whose ids are random as issued keys' are, so that
// consecutive counts land on unrelated pages (the keys' rows, their
// usage rows, the id index). Creating the n keys is not timed.
func BenchUsageScattered(b *testing.B, s interface {
	keys.Store
	store.Transactor
}, n int) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	ids := make([]string, n)
	err := s.InTx(ctx, func(ctx context.Context) error {
		for i := range ids {
			var r [12]byte
			for j := range r {
				r[j] = byte(rng.Uint32())
			}
			ids[i] = "k" + hex.EncodeToString(r[:])
			d := sha256.Sum256([]byte(ids[i]))
			if err := s.CreateAPIKey(ctx, &keys.APIKey{ID: ids[i], Env: keys.EnvLive, Name: "key " + ids[i], Hint: "h",
				OwnerType: keys.OwnerUser, OwnerID: "u1", Scopes: []string{"read", "write"},
				Metadata: map[string]string{"team": "platform", "purpose": "what the key is for, as people write it"},
				Secrets:  []keys.SecretDigest{{Digest: d[:]}}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	usage := make([]keys.Usage, 10_000)
	for b.Loop() {
		b.StopTimer()
		now := time.Now()
		for i := range usage {
			usage[i] = keys.Usage{ID: ids[rng.IntN(n)], Count: 3, LastUsedAt: now}
		}
		b.StartTimer()
		if err := s.RecordAPIKeyUsage(ctx, usage); err != nil {
			b.Fatal(err)
		}
	}
}
