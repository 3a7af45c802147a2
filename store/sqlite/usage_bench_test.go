package sqlite_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store/storetest"
)

// BenchmarkRecordAPIKeyUsage flushes the usage of 10,000 keys (one chunk
// of keys.Service.Flush) into a table of 10,000.
func BenchmarkRecordAPIKeyUsage(b *testing.B) {
	db := openPath(b, b.TempDir()+"/keyward.db")
	ctx := context.Background()
	const n = 10_000
	usage := make([]keys.Usage, n)
	err := db.InTx(ctx, func(ctx context.Context) error {
		for i := range n {
			id := fmt.Sprintf("key%05d", i)
			d := sha256.Sum256([]byte(id))
			if err := db.CreateAPIKey(ctx, &keys.APIKey{ID: id, Env: keys.EnvLive, Name: id, Hint: "h",
				OwnerType: keys.OwnerUser, OwnerID: "u1", Scopes: []string{"read"},
				Secrets: []keys.SecretDigest{{Digest: d[:]}}}); err != nil {
				return err
			}
			usage[i] = keys.Usage{ID: id, Count: 3, LastUsedAt: time.Now()}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := db.RecordAPIKeyUsage(ctx, usage); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecordAPIKeyUsageScattered flushes the usage of 10,000 keys
// drawn at random among 100,000 (storetest.BenchUsageScattered).
func BenchmarkRecordAPIKeyUsageScattered(b *testing.B) {
	storetest.BenchUsageScattered(b, openPath(b, b.TempDir()+"/keyward.db"), 100_000)
}
