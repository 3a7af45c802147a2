package storetest

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store"
)

// searchAll pages through list with Search q, three at a time, and
// returns the ids in order; it fails on a page beyond the items.
func searchAll(t *testing.T, q string, list func(p store.Page) ([]string, string, error)) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 20 {
			t.Fatalf("search %q: pagination does not end", q)
		}
		got, next, err := list(store.Page{Limit: 3, Cursor: cursor, Search: q})
		if err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
		ids = append(ids, got...)
		if next == "" {
			return ids
		}
		cursor = next
	}
}

// searchCase is one search and the ids it must find, in order.
type searchCase struct {
	q    string
	want []string
}

func checkSearches(t *testing.T, what string, cases []searchCase, list func(p store.Page) ([]string, string, error)) {
	t.Helper()
	for _, tc := range cases {
		if got := searchAll(t, tc.q, list); !reflect.DeepEqual(got, tc.want) && (len(got) != 0 || len(tc.want) != 0) {
			t.Errorf("%s search %q = %v, want %v", what, tc.q, got, tc.want)
		}
	}
}

func ids[T any](items []T, id func(T) string) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, id(it))
	}
	return out
}

// testSearch: Page.Search keeps the items whose searchable fields contain
// it, ignoring case, across pages (the cursor stays an id of a match), and
// LIKE's wildcards and escape match only themselves.
func testSearch(t *testing.T, s store.Store) {
	// Seven of each; the names of 1, 3 and 5 hold "Blue", 4's "50%_off\".
	name := func(i int) string {
		switch i {
		case 1, 3, 5:
			return fmt.Sprintf("Blue team %d", i)
		case 4:
			return `Sale 50%_off\`
		}
		return fmt.Sprintf("Red %d", i)
	}
	for i := range 7 {
		id := fmt.Sprintf("s%d", i)
		c := sampleClient(id)
		c.Name = name(i)
		u := sampleUser(id)
		u.Name, u.Username, u.Email = name(i), "login-"+id, id+"@Mail.Example"
		w := sampleWebhook(id)
		w.Description = name(i)
		r := sampleResource(id)
		r.Name = name(i)
		p := sampleUpstream(id)
		p.DisplayName = name(i)
		for _, err := range []error{s.CreateClient(ctx(), c), s.CreateUser(ctx(), u), s.CreateWebhook(ctx(), w),
			s.CreateResource(ctx(), r), s.CreateUpstreamProvider(ctx(), p)} {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	common := []searchCase{
		{"blue", []string{"s1", "s3", "s5"}},
		{"BLUE TEAM", []string{"s1", "s3", "s5"}},
		{"50%", []string{"s4"}},
		{"%", []string{"s4"}},
		{"_", []string{"s4"}},
		{`\`, []string{"s4"}},
		{"0%_o", []string{"s4"}},
		{"5%", nil},            // "%" is no wildcard: "5%" is not in "50%_off"
		{"S6", []string{"s6"}}, // the id
		{"nothing like it", nil},
	}
	checkSearches(t, "clients", append(common, searchCase{"app", nil}), func(p store.Page) ([]string, string, error) {
		l, next, err := s.ListClients(ctx(), p)
		return ids(l, func(v *store.Client) string { return v.ID }), next, err
	})
	checkSearches(t, "users", append(common, searchCase{"LOGIN-s2", []string{"s2"}}, searchCase{"mail.example", []string{"s0", "s1", "s2", "s3", "s4", "s5", "s6"}}),
		func(p store.Page) ([]string, string, error) {
			l, next, err := s.ListUsers(ctx(), p)
			return ids(l, func(v *store.User) string { return v.ID }), next, err
		})
	checkSearches(t, "webhooks", append(common, searchCase{"hooks.example/s3", []string{"s3"}}), func(p store.Page) ([]string, string, error) {
		l, next, err := s.ListWebhooks(ctx(), p)
		return ids(l, func(v *store.Webhook) string { return v.ID }), next, err
	})
	checkSearches(t, "resources", append(common, searchCase{"API.EXAMPLE/S2", []string{"s2"}}), func(p store.Page) ([]string, string, error) {
		l, next, err := s.ListResources(ctx(), p)
		return ids(l, func(v *store.Resource) string { return v.ID }), next, err
	})
	checkSearches(t, "providers", append(common, searchCase{"idp-s5", []string{"s5"}}, searchCase{"idp.example/s0", []string{"s0"}}),
		func(p store.Page) ([]string, string, error) {
			l, next, err := s.ListUpstreamProviders(ctx(), p)
			return ids(l, func(v *store.UpstreamProvider) string { return v.ID }), next, err
		})
	// No search lists everything, as before.
	if all, _, err := s.ListClients(ctx(), store.Page{}); err != nil || len(all) != 7 {
		t.Fatalf("ListClients without search: %d, %v", len(all), err)
	}
}

// testAPIKeysSearch: SearchAPIKeys matches id, name and hint, ignoring
// case, page by page.
func testAPIKeysSearch(t *testing.T, s keys.Store) {
	for i := range 7 {
		k := sampleAPIKey(fmt.Sprintf("a%d", i), byte(i+1))
		if i%2 == 1 {
			k.Name = fmt.Sprintf("Deploy bot %d", i)
		}
		if i == 4 {
			k.Name = "100%_sure"
		}
		if err := s.CreateAPIKey(ctx(), k); err != nil {
			t.Fatal(err)
		}
	}
	list := func(p store.Page) ([]string, string, error) {
		l, next, err := s.SearchAPIKeys(ctx(), p.Search, p.Limit, p.Cursor)
		return ids(l, func(v *keys.APIKey) string { return v.ID }), next, err
	}
	checkSearches(t, "apikeys", []searchCase{
		{"DEPLOY", []string{"a1", "a3", "a5"}},
		{"%", []string{"a4"}},
		{"_", []string{"a0", "a1", "a2", "a3", "a4", "a5", "a6"}}, // every hint has "_"
		{"%_", []string{"a4"}},
		{"kw_live_a6", []string{"a6"}},
		{"A2", []string{"a2"}},
		{"zzz", nil},
	}, list)
	if all, next, err := s.SearchAPIKeys(ctx(), "", 0, ""); err != nil || len(all) != 7 || next != "" {
		t.Fatalf("SearchAPIKeys without q: %d, %q, %v", len(all), next, err)
	}
}
