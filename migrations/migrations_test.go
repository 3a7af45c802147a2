package migrations

import (
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"testing"
)

var name = regexp.MustCompile(`^(\d{5})_[a-z0-9_]+\.sql$`)

// TestSameVersions checks that every engine has the same numbered,
// contiguous migration versions, so a schema change is never made for
// one engine only.
func TestSameVersions(t *testing.T) {
	versions := map[Engine][]string{}
	for _, e := range []Engine{Postgres, SQLite} {
		fsys, err := FS(e)
		if err != nil {
			t.Fatal(err)
		}
		entries, err := fs.ReadDir(fsys, ".")
		if err != nil {
			t.Fatal(err)
		}
		for _, ent := range entries {
			m := name.FindStringSubmatch(ent.Name())
			if m == nil {
				t.Errorf("%s/%s: want NNNNN_name.sql", e, ent.Name())
				continue
			}
			versions[e] = append(versions[e], m[1])
		}
		for i, v := range versions[e] {
			if want := i + 1; v != padded(want) {
				t.Errorf("%s: version %s at position %d, want %s (no gaps)", e, v, i, padded(want))
			}
		}
	}
	if !slices.Equal(versions[Postgres], versions[SQLite]) {
		t.Errorf("versions differ: postgres %v, sqlite %v", versions[Postgres], versions[SQLite])
	}
	if len(versions[SQLite]) == 0 {
		t.Error("no migrations embedded")
	}
}

func padded(n int) string { return fmt.Sprintf("%05d", n) }
