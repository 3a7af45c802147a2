package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/keyward/keyward/store"
)

func sampleUser(id string) *store.User {
	return &store.User{
		ID:            id,
		Username:      "user-" + id,
		PasswordHash:  "$argon2id$v=19$m=65536,t=1,p=2$c2FsdA$aGFzaA",
		Email:         id + "@example.com",
		EmailVerified: true,
		Name:          "User " + id,
	}
}

func testUsersCRUD(t *testing.T, s store.Store) {
	u := sampleUser("u1")
	u.Admin = true
	if err := s.CreateUser(ctx(), u); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetUser(ctx(), "u1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, u) {
		t.Fatalf("GetUser:\n got %+v\nwant %+v", got, u)
	}
	got, err = s.GetUserByUsername(ctx(), "user-u1")
	if err != nil || got.ID != "u1" {
		t.Fatalf("GetUserByUsername: %+v %v", got, err)
	}
	if n, err := s.CountAdmins(ctx()); err != nil || n != 1 {
		t.Fatalf("CountAdmins = %d, %v; want 1", n, err)
	}
	u.Username, u.Disabled, u.Admin = "renamed", true, false
	if err := s.UpdateUser(ctx(), u); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetUserByUsername(ctx(), "user-u1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("old username still found: %v", err)
	}
	got, err = s.GetUserByUsername(ctx(), "renamed")
	if err != nil || !got.Disabled || got.Admin {
		t.Fatalf("after update: %+v %v", got, err)
	}
	if n, _ := s.CountAdmins(ctx()); n != 0 {
		t.Fatalf("CountAdmins = %d after demotion", n)
	}
	if err := s.DeleteUser(ctx(), "u1"); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"GetUser":    errOf(s.GetUser(ctx(), "u1")),
		"DeleteUser": s.DeleteUser(ctx(), "u1"),
		"UpdateUser": s.UpdateUser(ctx(), sampleUser("u1")),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s after delete: %v, want ErrNotFound", name, err)
		}
	}
}

func errOf[T any](_ T, err error) error { return err }

func testUsersConflict(t *testing.T, s store.Store) {
	if err := s.CreateUser(ctx(), sampleUser("a")); err != nil {
		t.Fatal(err)
	}
	same := sampleUser("b")
	same.Username = "user-a"
	if err := s.CreateUser(ctx(), same); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate username: %v, want ErrConflict", err)
	}
	if err := s.CreateUser(ctx(), sampleUser("a")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate id: %v, want ErrConflict", err)
	}
	if err := s.CreateUser(ctx(), sampleUser("c")); err != nil {
		t.Fatal(err)
	}
	c := sampleUser("c")
	c.Username = "user-a"
	if err := s.UpdateUser(ctx(), c); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("rename onto taken username: %v, want ErrConflict", err)
	}
}

func testUsersPagination(t *testing.T, s store.Store) {
	for i := range 5 {
		if err := s.CreateUser(ctx(), sampleUser(fmt.Sprintf("u%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	page1, next, err := s.ListUsers(ctx(), store.Page{Limit: 2})
	if err != nil || len(page1) != 2 || next != "u1" {
		t.Fatalf("page 1: %d items, next %q, %v", len(page1), next, err)
	}
	page3, next, err := s.ListUsers(ctx(), store.Page{Limit: 2, Cursor: "u3"})
	if err != nil || len(page3) != 1 || page3[0].ID != "u4" || next != "" {
		t.Fatalf("last page: %v, next %q, %v", page3, next, err)
	}
}

// testUsersConcurrent has many goroutines create users at once, half of
// them racing for the same usernames: every distinct one must be created
// exactly once and every loser must see ErrConflict.
func testUsersConcurrent(t *testing.T, s store.Store) {
	const writers = 16
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		ok, confl int
	)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := sampleUser(fmt.Sprintf("w%02d", i))
			u.Username = fmt.Sprintf("shared-%d", i%8)
			err := s.CreateUser(ctx(), u)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, store.ErrConflict):
				confl++
			default:
				t.Errorf("concurrent create: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok != 8 || confl != 8 {
		t.Fatalf("%d created, %d conflicts; want 8 and 8", ok, confl)
	}
	all, _, err := s.ListUsers(ctx(), store.Page{Limit: 100})
	if err != nil || len(all) != 8 {
		t.Fatalf("%d users stored, %v", len(all), err)
	}
}
