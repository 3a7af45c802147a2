package store_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/keyward/keyward/store"
)

// TestBatchArgs: a batch of n keys is passed after the arguments before
// it as the next power of two of arguments, the keys first and then the
// first key again, and its statement text has as many placeholders, so
// the batches of 1 to 128 keys come in eight shapes on either engine.
func TestBatchArgs(t *testing.T) {
	for _, first := range []int{0, 1, 2} {
		texts := store.NewBatchTexts(first, func(list string) string { return "IN (" + list + ")" })
		shapes := map[string]bool{}
		for n := 1; n <= 300; n++ {
			keys := make([]string, n)
			for i := range keys {
				keys[i] = fmt.Sprint("k", i)
			}
			before := []any{"kind"}[:min(first, 1)]
			args, k := store.BatchArgs(before, keys)
			if k < n || k&(k-1) != 0 || k >= 2*n && n > 1 || len(args) != len(before)+k {
				t.Fatalf("%d keys: padded to %d, %d arguments", n, k, len(args))
			}
			if len(before) > 0 && args[0] != "kind" {
				t.Fatalf("%d keys: first argument %v, want the one before the keys", n, args[0])
			}
			for i, a := range args[len(before):] {
				want := keys[0]
				if i < n {
					want = keys[i]
				}
				if a != want {
					t.Fatalf("%d keys: argument %d is %v, want %s", n, i, a, want)
				}
			}
			text := texts.For(k)
			want := "IN (" + store.Placeholders(k, first) + ")"
			if text != want {
				t.Fatalf("%d keys: text %q, want %q", n, text, want)
			}
			if first == 0 && strings.Count(text, "?") != k || first > 0 && strings.Count(text, "$") != k ||
				first > 0 && !strings.Contains(text, fmt.Sprintf("$%d)", first+k-1)) {
				t.Fatalf("%d keys, placeholders from %d: %q", n, first, text)
			}
			if n <= store.MaxPaddedBatch {
				shapes[text] = true
			}
		}
		if len(shapes) != 8 {
			t.Errorf("placeholders from %d: batches of 1 to 128 keys came in %d shapes, want 8", first, len(shapes))
		}
	}
	if got := store.Placeholders(3, 2); got != "$2, $3, $4" {
		t.Errorf("Placeholders(3, 2) = %q", got)
	}
	if got := store.Placeholders(3, 0); got != "?, ?, ?" {
		t.Errorf("Placeholders(3, 0) = %q", got)
	}
}
