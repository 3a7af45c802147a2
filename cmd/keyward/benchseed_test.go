package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestTokenCursor: a tour's cursor hands out every record of the token
// file in order, from the first again after the last, across blocks and
// to concurrent callers, and counts what it handed out.
func TestTokenCursor(t *testing.T) {
	const n = 2*tokenBlock + 37 // two whole blocks and a short one
	path := filepath.Join(t.TempDir(), "tokens")
	var file strings.Builder
	for i := range n {
		fmt.Fprintf(&file, "%-*s", tokenWidth, fmt.Sprintf("token=t%d", i))
	}
	if err := os.WriteFile(path, []byte(file.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tf := &tokenFile{f: f, width: tokenWidth, n: n}
	c := &tokenCursor{f: tf}
	for want := range 3*n + 5 {
		got, body, err := c.take()
		if err != nil || got != want || body != fmt.Sprintf("token=t%d", want%n) {
			t.Fatalf("take %d: %d %q %v", want, got, body, err)
		}
	}
	// Concurrent callers share the records: each is handed out once a lap.
	c = &tokenCursor{f: tf}
	var (
		mu   sync.Mutex
		seen = map[string]int{}
		wg   sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			for range n / 8 * 2 {
				_, body, err := c.take()
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seen[body]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for i := range n / 8 * 16 {
		if k := fmt.Sprintf("token=t%d", i%n); seen[k] < 1 {
			t.Fatalf("%s never handed out", k)
		}
	}
	if one, _ := tf.body(n - 1); one != fmt.Sprintf("token=t%d", n-1) {
		t.Fatalf("last record %q", one)
	}
}
