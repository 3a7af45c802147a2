package clients

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyward/keyward/keys/clocktest"
	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/sqlite"
	"github.com/keyward/keyward/store/sqlite/sqlitetest"
)

// newDB opens a migrated SQLite store in a temporary directory.
func newDB(t *testing.T) *sqlite.DB {
	return sqlitetest.Open(t)
}

// seqIDs returns a time-ordered id generator: prefix-0001, prefix-0002, ...
func seqIDs(prefix string) func() string {
	var n atomic.Int64
	return func() string { return fmt.Sprintf("%s-%04d", prefix, n.Add(1)) }
}

// errDown stands for an unreachable database.
var errDown = errors.New("database is down")

// brokenClients is the real store with client reads that fail while down
// is set.
type brokenClients struct {
	store.ClientStore
	down  atomic.Bool
	reads atomic.Int64
}

func (b *brokenClients) GetClient(ctx context.Context, id string) (*store.Client, error) {
	b.reads.Add(1)
	if b.down.Load() {
		return nil, errDown
	}
	return b.ClientStore.GetClient(ctx, id)
}

// newTestClock is a settable clock for one test (the cache's background
// reads read it too).
func newTestClock() *clocktest.Clock { return clocktest.At(time.Unix(1_700_000_000, 0).UTC()) }
