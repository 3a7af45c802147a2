package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
)

func sampleClient(id string) *store.Client {
	return &store.Client{
		ID:                     id,
		Name:                   "App " + id,
		SecretDigest:           []byte{1, 2, 3, 4},
		GrantTypes:             []string{"authorization_code", "refresh_token"},
		Scopes:                 []string{"openid", "profile"},
		RedirectURIs:           []string{"https://app.example/cb"},
		PostLogoutRedirectURIs: []string{"https://app.example/bye"},
		Audience:               []string{"https://api.example"},
		SkipConsent:            true,
		AccessTokenFormat:      "opaque",
		IDTokenAlg:             "ES256",
		PKCEOptional:           true,
		Resources:              []string{"https://api.example/orders", "urn:example:inventory"},
		PARRequired:            true,
		DPoPRequired:           true,

		BackchannelLogoutURI:             "https://app.example/backchannel",
		BackchannelLogoutSessionRequired: true,
		AuthMethod:                       "private_key_jwt",
		JWKS:                             `{"keys":[]}`,
		JWKSURI:                          "",
		MFA:                              "required",
		Profile:                          "fapi2",
		LogoURI:                          "https://app.example/logo.png",
	}
}

func testClientsCRUD(t *testing.T, s store.Store) {
	c := sampleClient("c1")
	if err := s.CreateClient(ctx(), c); err != nil {
		t.Fatal(err)
	}
	if c.CreatedAt.IsZero() || time.Since(c.CreatedAt) > time.Minute {
		t.Fatalf("CreatedAt not set: %v", c.CreatedAt)
	}
	got, err := s.GetClient(ctx(), "c1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("GetClient:\n got %+v\nwant %+v", got, c)
	}
	c.Name, c.Public, c.SecretDigest, c.Scopes = "Renamed", true, nil, nil
	c.Disabled, c.PKCEOptional, c.Resources, c.PARRequired = true, false, []string{"https://mcp.example/mcp"}, false
	c.DPoPRequired = false
	c.BackchannelLogoutURI, c.BackchannelLogoutSessionRequired = "http://127.0.0.1:9/logout", false
	c.AuthMethod, c.JWKS, c.JWKSURI = "none", "", "https://app.example/jwks.json"
	c.MFA = "optional"
	c.Profile = ""
	c.LogoURI = "https://cdn.example/new-logo.svg"
	if err := s.UpdateClient(ctx(), c); err != nil {
		t.Fatal(err)
	}
	got, err = s.GetClient(ctx(), "c1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Renamed" || !got.Public || got.SecretDigest != nil || got.Scopes != nil || !got.Disabled || got.PKCEOptional ||
		got.PARRequired || got.DPoPRequired || !reflect.DeepEqual(got.Resources, c.Resources) ||
		got.BackchannelLogoutURI != c.BackchannelLogoutURI || got.BackchannelLogoutSessionRequired ||
		got.AuthMethod != "none" || got.JWKS != "" || got.JWKSURI != c.JWKSURI || got.MFA != "optional" || got.Profile != "" ||
		got.LogoURI != c.LogoURI {
		t.Fatalf("after update: %+v", got)
	}
	if !got.CreatedAt.Equal(c.CreatedAt) {
		t.Fatalf("update changed CreatedAt")
	}
	if err := s.DeleteClient(ctx(), "c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetClient(ctx(), "c1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after delete: %v, want ErrNotFound", err)
	}
}

func testClientsNotFound(t *testing.T, s store.Store) {
	if _, err := s.GetClient(ctx(), "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetClient: %v", err)
	}
	if err := s.UpdateClient(ctx(), sampleClient("nope")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateClient: %v", err)
	}
	if err := s.DeleteClient(ctx(), "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteClient: %v", err)
	}
}

func testClientsConflict(t *testing.T, s store.Store) {
	if err := s.CreateClient(ctx(), sampleClient("dup")); err != nil {
		t.Fatal(err)
	}
	c := sampleClient("dup")
	c.Name = "other"
	if err := s.CreateClient(ctx(), c); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second create: %v, want ErrConflict", err)
	}
	got, err := s.GetClient(ctx(), "dup")
	if err != nil || got.Name != "App dup" {
		t.Fatalf("conflicting create changed the stored client: %+v %v", got, err)
	}
}

func testClientsPagination(t *testing.T, s store.Store) {
	const n = 7
	for i := range n {
		if err := s.CreateClient(ctx(), sampleClient(fmt.Sprintf("p%02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	var (
		ids    []string
		cursor string
		pages  int
	)
	for {
		page, next, err := s.ListClients(ctx(), store.Page{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, c := range page {
			ids = append(ids, c.ID)
		}
		if next == "" {
			break
		}
		if pages > n {
			t.Fatal("pagination does not end")
		}
		cursor = next
	}
	want := []string{"p00", "p01", "p02", "p03", "p04", "p05", "p06"}
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("ids %v, want %v", ids, want)
	}
	if pages != 3 {
		t.Fatalf("%d pages, want 3", pages)
	}
	all, next, err := s.ListClients(ctx(), store.Page{})
	if err != nil || len(all) != n || next != "" {
		t.Fatalf("default page: %d items, next %q, err %v", len(all), next, err)
	}
}
