package storetest

import (
	"errors"
	"reflect"
	"testing"

	"github.com/keyward/keyward/store"
)

func sampleUpstream(id string) *store.UpstreamProvider {
	return &store.UpstreamProvider{
		ID: id, Name: "idp-" + id, DisplayName: "IdP " + id, Issuer: "https://idp.example/" + id,
		ClientID: "client-" + id, ClientSecret: []byte{1, 0, 2, 255}, Scopes: []string{"openid", "email"},
		ClaimUsername: "preferred_username", ClaimEmail: "email", ClaimName: "name", Enabled: true,
	}
}

// testUpstreamProviders: a provider reads back as written by id and by
// name, names are unique, an update replaces the settings, and a deleted
// one is ErrNotFound and takes its identities with it.
func testUpstreamProviders(t *testing.T, s store.Store) {
	p := sampleUpstream("p1")
	if err := s.CreateUpstreamProvider(ctx(), p); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetUpstreamProvider(ctx(), "p1")
	if err != nil || !reflect.DeepEqual(got, p) {
		t.Fatalf("GetUpstreamProvider:\n got %+v, %v\nwant %+v", got, err, p)
	}
	if got, err = s.GetUpstreamProviderByName(ctx(), "idp-p1"); err != nil || got.ID != "p1" {
		t.Fatalf("GetUpstreamProviderByName: %+v, %v", got, err)
	}
	dup := sampleUpstream("p2")
	dup.Name = "idp-p1"
	if err := s.CreateUpstreamProvider(ctx(), dup); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate name: %v, want ErrConflict", err)
	}
	p.Enabled, p.DisplayName, p.Scopes, p.ClientSecret = false, "Renamed", nil, []byte("sealed-2")
	if err := s.UpdateUpstreamProvider(ctx(), p); err != nil {
		t.Fatal(err)
	}
	if got, err = s.GetUpstreamProvider(ctx(), "p1"); err != nil || !reflect.DeepEqual(got, p) {
		t.Fatalf("after update:\n got %+v, %v\nwant %+v", got, err, p)
	}
	for i := range 3 {
		if err := s.CreateUpstreamProvider(ctx(), sampleUpstream("q"+string(rune('a'+i)))); err != nil {
			t.Fatal(err)
		}
	}
	page, next, err := s.ListUpstreamProviders(ctx(), store.Page{Limit: 2})
	if err != nil || len(page) != 2 || page[0].ID != "p1" || next == "" {
		t.Fatalf("first page: %d items, next %q, %v", len(page), next, err)
	}
	page, next, err = s.ListUpstreamProviders(ctx(), store.Page{Limit: 2, Cursor: next})
	if err != nil || len(page) != 2 || page[1].ID != "qc" || next == "" {
		t.Fatalf("second page: %d items, next %q, %v", len(page), next, err)
	}
	if err := s.CreateUser(ctx(), sampleUser("u1")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUpstreamIdentity(ctx(), &store.UpstreamIdentity{ProviderID: "p1", Subject: "s", UserID: "u1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUpstreamProvider(ctx(), "p1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetUpstreamProvider(ctx(), "p1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted provider: %v", err)
	}
	if _, err := s.GetUpstreamIdentity(ctx(), "p1", "s"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("identity of a deleted provider: %v, want ErrNotFound", err)
	}
	if err := s.DeleteUpstreamProvider(ctx(), "p1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	if err := s.UpdateUpstreamProvider(ctx(), p); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update deleted: %v", err)
	}
}

// testUpstreamIdentities: an (issuer, sub) links to one user only; a link
// to a missing user or provider is refused; deleting the user removes its
// links; users are found by verified email only, ignoring case.
func testUpstreamIdentities(t *testing.T, s store.Store) {
	if err := s.CreateUpstreamProvider(ctx(), sampleUpstream("p1")); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"u1", "u2", "u3"} {
		if err := s.CreateUser(ctx(), sampleUser(id)); err != nil {
			t.Fatal(err)
		}
	}
	in := &store.UpstreamIdentity{ProviderID: "p1", Subject: "sub-1", UserID: "u1", Email: "a@example.com"}
	if err := s.CreateUpstreamIdentity(ctx(), in); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetUpstreamIdentity(ctx(), "p1", "sub-1")
	if err != nil || !reflect.DeepEqual(got, in) {
		t.Fatalf("GetUpstreamIdentity:\n got %+v, %v\nwant %+v", got, err, in)
	}
	again := &store.UpstreamIdentity{ProviderID: "p1", Subject: "sub-1", UserID: "u2"}
	if err := s.CreateUpstreamIdentity(ctx(), again); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second link of one sub: %v, want ErrConflict", err)
	}
	for _, bad := range []*store.UpstreamIdentity{
		{ProviderID: "p1", Subject: "sub-2", UserID: "nobody"},
		{ProviderID: "nope", Subject: "sub-2", UserID: "u1"},
	} {
		if err := s.CreateUpstreamIdentity(ctx(), bad); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("link %+v: %v, want ErrNotFound", bad, err)
		}
	}
	if err := s.CreateUpstreamIdentity(ctx(), &store.UpstreamIdentity{ProviderID: "p1", Subject: "sub-3", UserID: "u1"}); err != nil {
		t.Fatal(err)
	}
	ids, err := s.ListUserUpstreamIdentities(ctx(), "u1")
	if err != nil || len(ids) != 2 {
		t.Fatalf("ListUserUpstreamIdentities: %d, %v", len(ids), err)
	}
	if _, err := s.GetUpstreamIdentity(ctx(), "p1", "SUB-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("sub is matched exactly: %v", err)
	}

	u3, _ := s.GetUser(ctx(), "u3")
	u3.EmailVerified = false
	if err := s.UpdateUser(ctx(), u3); err != nil {
		t.Fatal(err)
	}
	users, err := s.FindUsersByVerifiedEmail(ctx(), "U2@Example.COM", 5)
	if err != nil || len(users) != 1 || users[0].ID != "u2" {
		t.Fatalf("FindUsersByVerifiedEmail(u2): %+v, %v", users, err)
	}
	if users, err := s.FindUsersByVerifiedEmail(ctx(), "u3@example.com", 5); err != nil || len(users) != 0 {
		t.Fatalf("unverified email found: %+v, %v", users, err)
	}
	if users, err := s.FindUsersByVerifiedEmail(ctx(), "", 5); err != nil || len(users) != 0 {
		t.Fatalf("empty email found: %+v, %v", users, err)
	}

	if err := s.DeleteUser(ctx(), "u1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetUpstreamIdentity(ctx(), "p1", "sub-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("identity of a deleted user: %v, want ErrNotFound", err)
	}
}
