package store

import "testing"

// TestSelectColumns: every column qualified, or replaced, in its place.
func TestSelectColumns(t *testing.T) {
	got := SelectColumns("id, name,\n\tusage_count, created_at", "k", map[string]string{"usage_count": "k.usage_count + u.n"})
	if want := "k.id, k.name, k.usage_count + u.n, k.created_at"; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
}
