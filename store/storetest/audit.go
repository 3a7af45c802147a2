package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
)

// auditBase is the time of the first event of auditLog.
var auditBase = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// auditLog appends a log whose types, actors and subjects overlap in
// every way a filter can tell apart, and returns it in id order. Event i
// is created i minutes after auditBase, except e07 and e08, whose times
// are swapped (ids need not follow time: created_at orders the pages),
// and e21, created at the same microsecond as e20 (the id breaks the tie).
func auditLog(t *testing.T, s store.AuditStore) []*store.AuditEvent {
	t.Helper()
	rows := []struct{ typ, actor, subject string }{
		{"client.created", "cli", "c1"},              // e00
		{"client.secret_rotated", "user:u1", "c1"},   // e01
		{"clients.imported", "cli", "c2"},            // e02: not under client.*
		{"clientx", "system", "c1"},                  // e03: not under client.*
		{"api_key.created", "user:u1", "k1"},         // e04
		{"api_key.rolled", "user:u2", "k1"},          // e05
		{"apixkey.created", "user:u2", "k2"},         // e06: "_" is no wildcard
		{"client.created", "user:u2", "c3"},          // e07
		{"user.signed_in", "user:u1", "u1"},          // e08
		{"client.deleted", "cli", "c1"},              // e09
		{"client", "cli", "a%b_c"},                   // e10: a bare "client"
		{"user.signed_in", "user:ü'\"", "a_b%c"},     // e11
		{"signing_key.activated", "system", "kid-1"}, // e12
		{"client.created", "user:u1", "c4"},          // e13
		{"client.secret_rotated", "user:u1", "c4"},   // e14
		{"api_key.created", "cli", "k3"},             // e15
		{"signing_key.retiring", "system", "kid-0"},  // e16
		{"client.authentication_failed", "", "c1"},   // e17: no actor
		{"user.created", "cli", "u2"},                // e18
		{"client.created", "system", "c5"},           // e19
		{"client.created", "cli", "c6"},              // e20
		{"client.created", "cli", "c7"},              // e21: at e20's time
	}
	var all []*store.AuditEvent
	for i, r := range rows {
		at := i
		switch i {
		case 7:
			at = 8
		case 8:
			at = 7
		case 21:
			at = 20
		}
		e := &store.AuditEvent{ID: fmt.Sprintf("e%02d", i), Type: r.typ, Actor: r.actor, Subject: r.subject,
			Data: []byte(fmt.Sprintf(`{"n":%d}`, i)), CreatedAt: auditBase.Add(time.Duration(at) * time.Minute)}
		if err := s.AppendAudit(ctx(), e); err != nil {
			t.Fatal(err)
		}
		all = append(all, e)
	}
	return all
}

// listAllAudit follows the cursor through every page of f and returns
// the ids in the order they came.
func listAllAudit(t *testing.T, s store.AuditStore, f store.AuditFilter, limit int) []string {
	t.Helper()
	var (
		ids    []string
		cursor string
	)
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatalf("%+v: more than 100 pages of %d", f, limit)
		}
		page, next, err := s.ListAudit(ctx(), f, store.Page{Limit: limit, Cursor: cursor})
		if err != nil {
			t.Fatalf("ListAudit(%+v, limit %d, cursor %q): %v", f, limit, cursor, err)
		}
		if len(page) > limit {
			t.Fatalf("%+v: page of %d, limit %d", f, len(page), limit)
		}
		for _, e := range page {
			ids = append(ids, e.ID)
		}
		if next == "" {
			return ids
		}
		if want := store.AuditCursor(page[len(page)-1]); next != want {
			t.Fatalf("%+v: next cursor %q, want AuditCursor of the last event %q", f, next, want)
		}
		cursor = next
	}
}

func auditIDs(n ...int) []string {
	ids := make([]string, 0, len(n))
	for _, i := range n {
		ids = append(ids, fmt.Sprintf("e%02d", i))
	}
	return ids
}

// testAuditFilter: every filter selects exactly the events it names, in
// (created_at, id) order or its reverse, and the keyset pages of any size
// add up to that list in both orders.
func testAuditFilter(t *testing.T, s store.Store) {
	all := auditLog(t, s)
	at := func(minutes int) time.Time { return auditBase.Add(time.Duration(minutes) * time.Minute) }
	cases := []struct {
		name string
		f    store.AuditFilter
		want []string // oldest first
	}{
		{"everything", store.AuditFilter{}, auditIDs(0, 1, 2, 3, 4, 5, 6, 8, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21)},
		{"type *", store.AuditFilter{Type: "*"}, auditIDs(0, 1, 2, 3, 4, 5, 6, 8, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21)},
		{"exact type", store.AuditFilter{Type: "client.created"}, auditIDs(0, 7, 13, 19, 20, 21)},
		{"exact bare type", store.AuditFilter{Type: "client"}, auditIDs(10)},
		{"prefix", store.AuditFilter{Type: "client.*"}, auditIDs(0, 1, 7, 9, 13, 14, 17, 19, 20, 21)},
		{"prefix with underscore", store.AuditFilter{Type: "api_key.*"}, auditIDs(4, 5, 15)},
		{"nested prefix", store.AuditFilter{Type: "client.secret_rotated.*"}, nil},
		{"unknown type", store.AuditFilter{Type: "nothing.here"}, nil},
		{"actor", store.AuditFilter{Actor: "user:u1"}, auditIDs(1, 4, 8, 13, 14)},
		{"actor with quotes", store.AuditFilter{Actor: `user:ü'"`}, auditIDs(11)},
		{"actor is no prefix", store.AuditFilter{Actor: "user:u"}, nil},
		{"subject", store.AuditFilter{Subject: "c1"}, auditIDs(0, 1, 3, 9, 17)},
		{"subject is no pattern", store.AuditFilter{Subject: "a%b_c"}, auditIDs(10)},
		{"since", store.AuditFilter{Since: at(17)}, auditIDs(17, 18, 19, 20, 21)},
		{"until", store.AuditFilter{Until: at(3)}, auditIDs(0, 1, 2)},
		// e07 was created at minute 8 and e08 at minute 7.
		{"time range by created_at", store.AuditFilter{Since: at(7), Until: at(8)}, auditIDs(8)},
		{"since between microseconds", store.AuditFilter{Since: at(18).Add(-time.Nanosecond)}, auditIDs(18, 19, 20, 21)},
		{"until between microseconds", store.AuditFilter{Until: at(1).Add(time.Nanosecond)}, auditIDs(0, 1)},
		{"since = until", store.AuditFilter{Since: at(5), Until: at(5)}, nil},
		{"all conditions", store.AuditFilter{Type: "client.*", Actor: "user:u1", Subject: "c4", Since: at(13), Until: at(15)}, auditIDs(13, 14)},
		{"prefix and actor", store.AuditFilter{Type: "client.*", Actor: "cli"}, auditIDs(0, 9, 20, 21)},
		{"one instant", store.AuditFilter{Since: at(20), Until: at(20).Add(time.Microsecond)}, auditIDs(20, 21)},
		{"empty actor is no filter", store.AuditFilter{Type: "client.authentication_failed", Actor: ""}, auditIDs(17)},
	}
	for _, tc := range cases {
		// The reference model of the filter agrees with the hand-written list.
		var model []string
		for _, e := range byTime(all) {
			if tc.f.Selects(e) {
				model = append(model, e.ID)
			}
		}
		if !slices.Equal(model, tc.want) {
			t.Errorf("%s: AuditFilter.Selects picks %v, want %v", tc.name, model, tc.want)
		}
		for _, desc := range []bool{false, true} {
			f := tc.f
			f.Desc = desc
			want := slices.Clone(tc.want)
			if desc {
				slices.Reverse(want)
			}
			for _, limit := range []int{1, 2, 3, 500} {
				if got := listAllAudit(t, s, f, limit); !slices.Equal(got, want) {
					t.Errorf("%s (desc %v, pages of %d): %v, want %v", tc.name, desc, limit, got, want)
				}
			}
		}
	}

	// Each event comes back whole.
	page, _, err := s.ListAudit(ctx(), store.AuditFilter{Actor: `user:ü'"`, Desc: true}, store.Page{})
	if err != nil || len(page) != 1 {
		t.Fatalf("ListAudit by actor: %d events, %v", len(page), err)
	}
	var data struct{ N int }
	if got, want := page[0], all[11]; got.Type != want.Type || got.Subject != want.Subject || !got.CreatedAt.Equal(want.CreatedAt) ||
		jsonUnmarshal(got.Data, &data) != nil || data.N != 11 {
		t.Errorf("event read back %+v (data %s), want %+v", got, got.Data, want)
	}
}

// testAuditOrder: pages from a cursor in the middle, in both orders;
// and reading on, newest first, while events are appended: the keyset
// pages neither repeat nor skip what was there, and a new event appears
// on a new first page.
func testAuditOrder(t *testing.T, s store.Store) {
	all := auditLog(t, s)
	desc := store.AuditFilter{Desc: true}
	from := func(i int) string { return store.AuditCursor(all[i]) }
	for _, tc := range []struct {
		name   string
		f      store.AuditFilter
		cursor string
		want   []string
		next   string
	}{
		// e07 was created after e08.
		{"desc after e10", desc, from(10), auditIDs(9, 7, 8), from(8)},
		{"asc after e10", store.AuditFilter{}, from(10), auditIDs(11, 12, 13), from(13)},
		{"asc after e08", store.AuditFilter{}, from(8), auditIDs(7, 9, 10), from(10)},
		{"desc to the end", desc, from(2), auditIDs(1, 0), ""},
		// e20 and e21 share a time: the id decides.
		{"desc after e21", desc, from(21), auditIDs(20, 19, 18), from(18)},
		{"asc after e20", store.AuditFilter{}, from(20), auditIDs(21), ""},
		{"desc filtered after e20", store.AuditFilter{Desc: true, Type: "client.created"}, from(20), auditIDs(19, 13, 7), from(7)},
	} {
		page, next, err := s.ListAudit(ctx(), tc.f, store.Page{Limit: 3, Cursor: tc.cursor})
		if got := idsOf(page); err != nil || !slices.Equal(got, tc.want) || next != tc.next {
			t.Errorf("%s: %v next %q, %v; want %v next %q", tc.name, got, next, err, tc.want, tc.next)
		}
	}

	first, next, err := s.ListAudit(ctx(), desc, store.Page{Limit: 5})
	if got := idsOf(first); err != nil || !slices.Equal(got, auditIDs(21, 20, 19, 18, 17)) || next != from(17) {
		t.Fatalf("first page newest first: %v next %q, %v", got, next, err)
	}
	if err := s.AppendAudit(ctx(), &store.AuditEvent{ID: "e99", Type: "client.created", Actor: "cli", Subject: "c9",
		CreatedAt: auditBase.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	rest := listAllAuditFrom(t, s, desc, 5, next)
	if want := auditIDs(16, 15, 14, 13, 12, 11, 10, 9, 7, 8, 6, 5, 4, 3, 2, 1, 0); !slices.Equal(rest, want) {
		t.Errorf("reading on after an append: %v, want %v", rest, want)
	}
	if again, _, err := s.ListAudit(ctx(), desc, store.Page{Limit: 1}); err != nil || len(again) != 1 || again[0].ID != "e99" {
		t.Errorf("new first page: %v, %v; want e99", idsOf(again), err)
	}
}

// testAuditFilterInvalid: a filter no surface should send is
// store.ErrInvalid with a *ValidationError naming each problem, before
// any query.
func testAuditFilterInvalid(t *testing.T, s store.Store) {
	auditLog(t, s)
	for name, tc := range map[string]struct {
		f      store.AuditFilter
		want   []string
		cursor string
	}{
		"bare id cursor":     {f: store.AuditFilter{}, want: []string{"cursor"}, cursor: "e10"},
		"cursor without id":  {f: store.AuditFilter{Desc: true}, want: []string{"cursor"}, cursor: "1700000000000000:"},
		"cursor time":        {f: store.AuditFilter{}, want: []string{"cursor"}, cursor: "soon:e1"},
		"negative time":      {f: store.AuditFilter{}, want: []string{"cursor"}, cursor: "-1:e1"},
		"padded time":        {f: store.AuditFilter{}, want: []string{"cursor"}, cursor: "01:e1"},
		"wildcard inside":    {f: store.AuditFilter{Type: "client.*.created"}, want: []string{"type"}},
		"like pattern":       {f: store.AuditFilter{Type: "client%"}, want: []string{"type"}},
		"upper case":         {f: store.AuditFilter{Type: "Client.Created"}, want: []string{"type"}},
		"trailing dot":       {f: store.AuditFilter{Type: "client."}, want: []string{"type"}},
		"long type":          {f: store.AuditFilter{Type: strings.Repeat("a", store.MaxAuditFilterLen+1)}, want: []string{"type"}},
		"control in actor":   {f: store.AuditFilter{Actor: "user:\x00"}, want: []string{"actor"}},
		"bad utf-8":          {f: store.AuditFilter{Subject: "\xff"}, want: []string{"subject"}},
		"long subject":       {f: store.AuditFilter{Subject: strings.Repeat("s", store.MaxAuditFilterLen+1)}, want: []string{"subject"}},
		"until before since": {f: store.AuditFilter{Since: auditBase, Until: auditBase.Add(-time.Second)}, want: []string{"until"}},
		"several":            {f: store.AuditFilter{Type: "*.x", Actor: "\n", Since: auditBase, Until: auditBase.Add(-1)}, want: []string{"type", "actor", "until"}},
	} {
		_, _, err := s.ListAudit(ctx(), tc.f, store.Page{Cursor: tc.cursor})
		var ve *store.ValidationError
		if !errors.Is(err, store.ErrInvalid) || !errors.As(err, &ve) {
			t.Errorf("%s: %v, want a *store.ValidationError", name, err)
			continue
		}
		if len(ve.Problems) != len(tc.want) {
			t.Errorf("%s: problems %q, want one each for %v", name, ve.Problems, tc.want)
			continue
		}
		for i, field := range tc.want {
			if !strings.HasPrefix(ve.Problems[i], field+":") {
				t.Errorf("%s: problem %q, want one about %s", name, ve.Problems[i], field)
			}
		}
	}
}

func listAllAuditFrom(t *testing.T, s store.AuditStore, f store.AuditFilter, limit int, cursor string) []string {
	t.Helper()
	var ids []string
	for cursor != "" {
		page, next, err := s.ListAudit(ctx(), f, store.Page{Limit: limit, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, idsOf(page)...)
		cursor = next
	}
	return ids
}

// byTime returns events in ListAudit's ascending order: by CreatedAt,
// then ID.
func byTime(events []*store.AuditEvent) []*store.AuditEvent {
	out := slices.Clone(events)
	slices.SortStableFunc(out, func(a, b *store.AuditEvent) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

func idsOf(events []*store.AuditEvent) []string {
	ids := make([]string, 0, len(events))
	for _, e := range events {
		ids = append(ids, e.ID)
	}
	return ids
}
