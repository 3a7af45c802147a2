package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
)

func sampleResource(id string) *store.Resource {
	return &store.Resource{
		ID:     id,
		URI:    "https://api.example/" + id,
		Name:   "API " + id,
		Scopes: []string{"orders:read", "orders:write"},
	}
}

// testResourcesCRUD: a resource reads back as written (URI, name, scopes,
// times), an update replaces every field but ID and CreatedAt, and a
// deleted one is ErrNotFound everywhere.
func testResourcesCRUD(t *testing.T, s store.Store) {
	r := sampleResource("r1")
	if err := s.CreateResource(ctx(), r); err != nil {
		t.Fatal(err)
	}
	if r.CreatedAt.IsZero() || time.Since(r.CreatedAt) > time.Minute {
		t.Fatalf("CreatedAt not set: %v", r.CreatedAt)
	}
	got, err := s.GetResource(ctx(), "r1")
	if err != nil || !reflect.DeepEqual(got, r) {
		t.Fatalf("GetResource:\n got %+v, %v\nwant %+v", got, err, r)
	}
	got, err = s.GetResourceByURI(ctx(), "https://api.example/r1")
	if err != nil || !reflect.DeepEqual(got, r) {
		t.Fatalf("GetResourceByURI:\n got %+v, %v\nwant %+v", got, err, r)
	}
	// The URI is matched exactly: no prefix, no case folding.
	for _, uri := range []string{"https://api.example/", "https://API.example/r1", "https://api.example/r1/"} {
		if _, err := s.GetResourceByURI(ctx(), uri); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetResourceByURI(%q): %v, want ErrNotFound", uri, err)
		}
	}
	created := r.CreatedAt
	r.URI, r.Name, r.Scopes = "urn:example:inventory", "", nil
	if err := s.UpdateResource(ctx(), r); err != nil {
		t.Fatal(err)
	}
	got, err = s.GetResource(ctx(), "r1")
	if err != nil || !reflect.DeepEqual(got, r) || !got.CreatedAt.Equal(created) {
		t.Fatalf("after update:\n got %+v, %v\nwant %+v", got, err, r)
	}
	if _, err := s.GetResourceByURI(ctx(), "https://api.example/r1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("old URI after update: %v, want ErrNotFound", err)
	}
	if err := s.DeleteResource(ctx(), "r1"); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"GetResource":      errOf(s.GetResource(ctx(), "r1")),
		"GetResourceByURI": errOf(s.GetResourceByURI(ctx(), "urn:example:inventory")),
		"DeleteResource":   s.DeleteResource(ctx(), "r1"),
		"UpdateResource":   s.UpdateResource(ctx(), sampleResource("r1")),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s after delete: %v, want ErrNotFound", name, err)
		}
	}
}

// testResourcesConflict: ids and URIs are unique, on create and update.
func testResourcesConflict(t *testing.T, s store.Store) {
	a, b := sampleResource("a"), sampleResource("b")
	for _, r := range []*store.Resource{a, b} {
		if err := s.CreateResource(ctx(), r); err != nil {
			t.Fatal(err)
		}
	}
	dupID := sampleResource("a")
	dupID.URI = "https://other.example"
	if err := s.CreateResource(ctx(), dupID); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate id: %v, want ErrConflict", err)
	}
	dupURI := sampleResource("c")
	dupURI.URI = a.URI
	if err := s.CreateResource(ctx(), dupURI); !errors.Is(err, store.ErrConflict) {
		t.Errorf("duplicate URI: %v, want ErrConflict", err)
	}
	b.URI = a.URI
	if err := s.UpdateResource(ctx(), b); !errors.Is(err, store.ErrConflict) {
		t.Errorf("update to a taken URI: %v, want ErrConflict", err)
	}
	if got, err := s.GetResource(ctx(), "b"); err != nil || got.URI != "https://api.example/b" {
		t.Errorf("failed update changed the record: %+v, %v", got, err)
	}
}

// testResourcesPagination: pages ordered by id, each cursor the last id of
// a full page.
func testResourcesPagination(t *testing.T, s store.Store) {
	for i := range 7 {
		if err := s.CreateResource(ctx(), sampleResource(fmt.Sprintf("r%02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		items, next, err := s.ListResources(ctx(), store.Page{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range items {
			ids = append(ids, r.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	want := []string{"r00", "r01", "r02", "r03", "r04", "r05", "r06"}
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("ids %v, want %v", ids, want)
	}
}
