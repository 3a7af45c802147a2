package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
)

// testClientsRegistered: a dynamically registered client's mark, the
// digest of its registration access token and its stored metadata read
// back byte for byte, and an update replaces them.
func testClientsRegistered(t *testing.T, s store.Store) {
	c := sampleClient("reg1")
	c.Registered = true
	c.RegistrationTokenDigest = []byte{9, 8, 7}
	c.RegistrationMetadata = json.RawMessage(`{"client_uri":"https://app.example","contacts":["a@example.com"]}`)
	if err := s.CreateClient(ctx(), c); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetClient(ctx(), "reg1")
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("GetClient:\n got %+v, %v\nwant %+v", got, err, c)
	}
	c.RegistrationTokenDigest = []byte{1, 1}
	c.RegistrationMetadata = json.RawMessage(`{"tos_uri": "https://app.example/tos"}`)
	if err := s.UpdateClient(ctx(), c); err != nil {
		t.Fatal(err)
	}
	got, err = s.GetClient(ctx(), "reg1")
	if err != nil || !got.Registered || string(got.RegistrationTokenDigest) != string(c.RegistrationTokenDigest) ||
		string(got.RegistrationMetadata) != string(c.RegistrationMetadata) {
		t.Fatalf("after update: %+v, %v", got, err)
	}
	// An administrator's client has none of it.
	plain := sampleClient("plain")
	if err := s.CreateClient(ctx(), plain); err != nil {
		t.Fatal(err)
	}
	got, err = s.GetClient(ctx(), "plain")
	if err != nil || got.Registered || len(got.RegistrationTokenDigest) != 0 || got.RegistrationMetadata != nil {
		t.Fatalf("admin client: %+v, %v", got, err)
	}
}

func sampleRegistrationToken(id string, maxUses int) *store.RegistrationToken {
	return &store.RegistrationToken{ID: id, Digest: []byte("digest-" + id), MaxUses: maxUses,
		ExpiresAt: store.Truncate(time.Now().Add(time.Hour))}
}

// testRegistrationTokensCRUD: a token reads back as written, lists in id
// order with pages, and a revocation keeps its first time.
func testRegistrationTokensCRUD(t *testing.T, s store.Store) {
	tok := sampleRegistrationToken("rt1", 3)
	if err := s.CreateRegistrationToken(ctx(), tok); err != nil {
		t.Fatal(err)
	}
	if tok.CreatedAt.IsZero() {
		t.Fatal("CreatedAt not set")
	}
	got, err := s.GetRegistrationToken(ctx(), "rt1")
	if err != nil || !reflect.DeepEqual(got, tok) {
		t.Fatalf("GetRegistrationToken:\n got %+v, %v\nwant %+v", got, err, tok)
	}
	if err := s.CreateRegistrationToken(ctx(), sampleRegistrationToken("rt1", 0)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate id: %v, want ErrConflict", err)
	}
	for i := 2; i <= 5; i++ {
		if err := s.CreateRegistrationToken(ctx(), sampleRegistrationToken(fmt.Sprintf("rt%d", i), 0)); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	cursor := ""
	for pages := 0; ; pages++ {
		items, next, err := s.ListRegistrationTokens(ctx(), store.Page{Limit: 2, Cursor: cursor})
		if err != nil || pages > 5 {
			t.Fatalf("ListRegistrationTokens: %v (page %d)", err, pages)
		}
		for _, it := range items {
			ids = append(ids, it.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if want := []string{"rt1", "rt2", "rt3", "rt4", "rt5"}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("listed %v, want %v", ids, want)
	}
	first := store.Truncate(time.Now().Add(-time.Minute))
	if err := s.RevokeRegistrationToken(ctx(), "rt1", first); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeRegistrationToken(ctx(), "rt1", first.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err = s.GetRegistrationToken(ctx(), "rt1")
	if err != nil || !got.RevokedAt.Equal(first) {
		t.Fatalf("revoked at %v, %v; want the first time %v", got.RevokedAt, err, first)
	}
	for name, err := range map[string]error{
		"Get":    errOf(s.GetRegistrationToken(ctx(), "nope")),
		"Revoke": s.RevokeRegistrationToken(ctx(), "nope", first),
		"Use":    s.UseRegistrationToken(ctx(), "nope", time.Now()),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s of an unknown token: %v, want ErrNotFound", name, err)
		}
	}
}

// testRegistrationTokensUse: uses are counted up to MaxUses, concurrent
// uses never exceed it, and a revoked or expired token is ErrConflict
// without counting.
func testRegistrationTokensUse(t *testing.T, s store.Store) {
	now := time.Now()
	tok := sampleRegistrationToken("limited", 3)
	if err := s.CreateRegistrationToken(ctx(), tok); err != nil {
		t.Fatal(err)
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		ok, conf int
	)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.UseRegistrationToken(ctx(), "limited", now)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, store.ErrConflict):
				conf++
			default:
				t.Errorf("UseRegistrationToken: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok != 3 || conf != 3 {
		t.Fatalf("6 concurrent uses of a 3-use token: %d allowed, %d refused", ok, conf)
	}
	got, err := s.GetRegistrationToken(ctx(), "limited")
	if err != nil || got.Uses != 3 || got.Usable(now) {
		t.Fatalf("after use: %+v, %v", got, err)
	}

	unlimited := sampleRegistrationToken("unlimited", 0)
	if err := s.CreateRegistrationToken(ctx(), unlimited); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if err := s.UseRegistrationToken(ctx(), "unlimited", now); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.UseRegistrationToken(ctx(), "unlimited", unlimited.ExpiresAt); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("use at expiry: %v, want ErrConflict", err)
	}
	if err := s.RevokeRegistrationToken(ctx(), "unlimited", now); err != nil {
		t.Fatal(err)
	}
	if err := s.UseRegistrationToken(ctx(), "unlimited", now); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("use after revocation: %v, want ErrConflict", err)
	}
	got, err = s.GetRegistrationToken(ctx(), "unlimited")
	if err != nil || got.Uses != 5 {
		t.Fatalf("uses %d, %v; want 5 (refused uses are not counted)", got.Uses, err)
	}
}
