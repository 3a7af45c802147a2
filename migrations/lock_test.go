package migrations

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// TestConcurrentSQLiteUp: processes migrating one fresh SQLite file at once
// (here: separate connection pools) take turns through the lock file, so
// every one succeeds and each version is applied exactly once.
func TestConcurrentSQLiteUp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyward.db")
	open := func() *sql.DB {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	// Switch the fresh file to WAL first: that step has its own race, which
	// store/sqlite's Open handles and this test is not about.
	if err := open().Ping(); err != nil {
		t.Fatal(err)
	}
	const n = 6
	dbs := make([]*sql.DB, n)
	for i := range dbs {
		dbs[i] = open()
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		applied []int64
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := Up(context.Background(), SQLite, dbs[i], WithLockFile(path+".migrate-lock"))
			if err != nil {
				t.Errorf("migration %d: %v", i, err)
			}
			mu.Lock()
			applied = append(applied, v...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(applied)
	want := versions(t)
	if !slices.Equal(applied, want) {
		t.Errorf("applied %v, want each of %v once", applied, want)
	}
	if pending, err := Pending(context.Background(), SQLite, dbs[0]); err != nil || pending {
		t.Errorf("pending after migrating: %v %v", pending, err)
	}
}

// versions returns the SQLite migration versions in order.
func versions(t *testing.T) []int64 {
	t.Helper()
	p, err := newProvider(SQLite, new(sql.DB), options{})
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, s := range p.ListSources() {
		out = append(out, s.Version)
	}
	return out
}
