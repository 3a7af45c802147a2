package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
)

// testTokensSubject: SubjectRequests finds every grant of a subject, each
// once, across kinds, and nothing of anyone else.
func testTokensSubject(t *testing.T, s store.Store) {
	exp := time.Now().Add(time.Hour)
	bob := func(r *store.TokenRecord) *store.TokenRecord { r.Subject = "bob"; return r }
	for _, r := range []*store.TokenRecord{
		sampleToken(store.KindAccessToken, "a1", "grant-b", exp),
		sampleToken(store.KindRefreshToken, "r1", "grant-b", exp),
		sampleToken(store.KindRefreshToken, "r2", "grant-b", exp),
		sampleToken(store.KindAuthorizeCode, "c1", "grant-a", exp),
		bob(sampleToken(store.KindRefreshToken, "r3", "grant-c", exp)),
	} {
		if err := s.CreateToken(ctx(), r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.SubjectRequests(ctx(), "alice")
	if err != nil || !slices.Equal(got, []string{"grant-a", "grant-b"}) {
		t.Fatalf("SubjectRequests(alice) = %v, %v; want [grant-a grant-b]", got, err)
	}
	if got, err := s.SubjectRequests(ctx(), "bob"); err != nil || !slices.Equal(got, []string{"grant-c"}) {
		t.Fatalf("SubjectRequests(bob) = %v, %v; want [grant-c]", got, err)
	}
	if got, err := s.SubjectRequests(ctx(), "nobody"); err != nil || len(got) != 0 {
		t.Fatalf("SubjectRequests(nobody) = %v, %v; want none", got, err)
	}
}
