package resources

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/sqlite"
	"github.com/keyward/keyward/store/sqlite/sqlitetest"
)

// newDB opens a migrated SQLite store in a temporary directory.
func newDB(t *testing.T) *sqlite.DB {
	return sqlitetest.Open(t)
}

func seqIDs(prefix string) func() string {
	var n atomic.Int64
	return func() string { return fmt.Sprintf("%s-%04d", prefix, n.Add(1)) }
}

func newTestRegistry(t *testing.T) (*Registry, *sqlite.DB, *atomic.Int64) {
	t.Helper()
	db := newDB(t)
	var changes atomic.Int64
	reg, err := NewRegistry(Config{Store: db, NewID: seqIDs("r"),
		Auditor:  &store.Auditor{Store: db, NewID: seqIDs("ev"), Now: time.Now},
		OnChange: func(context.Context) { changes.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	return reg, db, &changes
}

func TestRegistryLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg, db, changes := newTestRegistry(t)
	r, err := reg.Create(ctx, Params{URI: "https://api.example/orders", Name: " Orders ",
		Scopes: []string{"orders:read", "orders:read", "", "orders:write"}})
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "r-0001" || r.Name != "Orders" || !reflect.DeepEqual(r.Scopes, []string{"orders:read", "orders:write"}) {
		t.Fatalf("created %+v", r)
	}
	for _, ref := range []string{r.ID, r.URI} {
		got, err := reg.Get(ctx, ref)
		if err != nil || got.ID != r.ID {
			t.Fatalf("Get(%q) = %+v, %v", ref, got, err)
		}
	}
	if _, err := reg.Create(ctx, Params{URI: r.URI}); !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), r.URI) {
		t.Fatalf("same URI again: %v, want ErrConflict naming it", err)
	}
	up, err := reg.Update(ctx, r.ID, Params{URI: "urn:example:orders", Name: "Orders v2"})
	if err != nil || up.URI != "urn:example:orders" || up.Scopes != nil {
		t.Fatalf("Update = %+v, %v", up, err)
	}
	if _, err := reg.Update(ctx, "nope", Params{URI: "urn:x"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Update unknown: %v", err)
	}
	if _, err := reg.Delete(ctx, "urn:example:orders"); err != nil {
		t.Fatalf("Delete by URI: %v", err)
	}
	if _, err := reg.Delete(ctx, r.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Delete twice: %v, want ErrNotFound", err)
	}
	if n := changes.Load(); n != 3 {
		t.Errorf("OnChange called %d times, want 3 (create, update, delete)", n)
	}
	events, _, err := db.ListAudit(ctx, store.AuditFilter{}, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range events {
		types = append(types, e.Type+":"+e.Subject)
		if !strings.Contains(string(e.Data), `"uri"`) {
			t.Errorf("event %s data %s lacks the uri", e.Type, e.Data)
		}
	}
	want := []string{"resource.created:r-0001", "resource.updated:r-0001", "resource.deleted:r-0001"}
	if !reflect.DeepEqual(types, want) {
		t.Errorf("audit %v, want %v", types, want)
	}
}

func TestRegistryValidation(t *testing.T) {
	t.Parallel()
	reg, _, changes := newTestRegistry(t)
	_, err := reg.Create(context.Background(), Params{URI: "/relative#x", Name: strings.Repeat("n", 201),
		Scopes: []string{"ok", `b"ad`}})
	var ve *store.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 3 {
		t.Fatalf("Create invalid: %v, want 3 problems", err)
	}
	for i, want := range []string{"uri", "name", `scope "b\"ad"`} {
		if !strings.Contains(ve.Problems[i], want) {
			t.Errorf("problem %d %q lacks %q", i, ve.Problems[i], want)
		}
	}
	for _, uri := range []string{"", "https://api.example/#frag", "api.example"} {
		if _, err := reg.Create(context.Background(), Params{URI: uri}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("uri %q: %v, want ErrInvalid", uri, err)
		}
	}
	if changes.Load() != 0 {
		t.Error("a refused create announced a change")
	}
}
