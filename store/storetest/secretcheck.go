package storetest

import (
	"bytes"
	"errors"
	"sync"
	"testing"

	"github.com/keyward/keyward/store"
)

// testSecretFingerprint: the first fingerprint a database sees is the one
// it keeps, even when several instances start at once; any other is a
// conflict.
func testSecretFingerprint(t *testing.T, s store.Store) {
	sc, ok := s.(store.SecretChecker)
	if !ok {
		t.Fatalf("%T does not implement store.SecretChecker", s)
	}
	fp, other := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := sc.CheckSecretFingerprint(ctx(), fp); err != nil {
				t.Errorf("first check: %v", err)
			}
		}()
	}
	wg.Wait()
	if err := sc.CheckSecretFingerprint(ctx(), fp); err != nil {
		t.Fatalf("same fingerprint: %v", err)
	}
	if err := sc.CheckSecretFingerprint(ctx(), other); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("other fingerprint: %v, want ErrConflict", err)
	}
	if err := sc.CheckSecretFingerprint(ctx(), fp); err != nil {
		t.Fatalf("the original after a refused one: %v", err)
	}
}
