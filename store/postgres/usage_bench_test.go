package postgres_test

import (
	"testing"

	"github.com/keyward/keyward/store/postgres/pgtest"
	"github.com/keyward/keyward/store/storetest"
)

// BenchmarkRecordAPIKeyUsageScattered flushes the usage of 10,000 keys
// drawn at random among 50,000 (storetest.BenchUsageScattered).
func BenchmarkRecordAPIKeyUsageScattered(b *testing.B) {
	storetest.BenchUsageScattered(b, openURL(b, pgtest.Schema(b)), 50_000)
}
