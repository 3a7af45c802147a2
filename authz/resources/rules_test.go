package resources

import (
	"testing"

	"github.com/keyward/keyward/store"
)

func TestAllowed(t *testing.T) {
	t.Parallel()
	set := NewSet([]*store.Resource{
		{URI: "https://orders.example"},
		{URI: "https://billing.example"},
	})
	open := &store.Client{}
	listed := &store.Client{Resources: []string{"https://orders.example", "urn:private:tool"}}
	for _, tc := range []struct {
		name   string
		client *store.Client
		uri    string
		want   bool
	}{
		{"registered, no list", open, "https://orders.example", true},
		{"unknown, no list", open, "https://other.example", false},
		{"prefix of a registered one is not it", open, "https://orders.example/admin", false},
		{"registered and listed", listed, "https://orders.example", true},
		{"registered, excluded by the list", listed, "https://billing.example", false},
		{"listed, not registered", listed, "urn:private:tool", true},
		{"neither", listed, "https://other.example", false},
	} {
		if got := Allowed(tc.client, set, tc.uri); got != tc.want {
			t.Errorf("%s: Allowed = %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := AllowedURIs(open, set); len(got) != 2 || got[0] != "https://billing.example" {
		t.Errorf("AllowedURIs(no list) = %v", got)
	}
	if got := AllowedURIs(listed, set); len(got) != 2 || got[1] != "urn:private:tool" {
		t.Errorf("AllowedURIs(list) = %v", got)
	}
}

func TestAccepts(t *testing.T) {
	t.Parallel()
	set := NewSet([]*store.Resource{
		{URI: "https://orders.example", Scopes: []string{"orders:read", "orders:write"}},
		{URI: "https://billing.example", Scopes: []string{"billing"}},
		{URI: "https://open.example"},
	})
	orders, billing, open := "https://orders.example", "https://billing.example", "https://open.example"
	for _, tc := range []struct {
		uris  []string
		scope string
		want  bool
	}{
		{[]string{orders}, "orders:read", true},
		{[]string{orders}, "billing", false},
		{[]string{orders}, "openid", true},
		{[]string{orders}, "offline_access", true},
		{[]string{orders, billing}, "billing", true},
		{[]string{orders, billing}, "admin", false},
		{[]string{orders, open}, "anything", true},
		{[]string{"urn:unregistered"}, "anything", true},
		{nil, "anything", true},
	} {
		if got := set.Accepts(tc.uris, tc.scope); got != tc.want {
			t.Errorf("Accepts(%v, %q) = %v, want %v", tc.uris, tc.scope, got, tc.want)
		}
	}
}
