package storetest

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
)

func testWebAuthnCredentials(t *testing.T, s store.Store) {
	for _, u := range []string{"u", "v"} {
		if err := s.CreateUser(ctx(), sampleUser(u)); err != nil {
			t.Fatal(err)
		}
	}
	at := store.Truncate(time.Now())
	c := &store.WebAuthnCredential{ID: []byte{1, 2, 3, 0xff}, UserID: "u", Name: "Laptop", PublicKey: []byte("cose"),
		SignCount: 7, UserVerified: true, BackupEligible: true, Transports: []string{"internal", "hybrid"},
		AAGUID: bytes.Repeat([]byte{9}, 16), AttestationType: "none", CreatedAt: at}
	if err := s.CreateWebAuthnCredential(ctx(), c); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateWebAuthnCredential(ctx(), c); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate credential: %v, want ErrConflict", err)
	}
	ghost := *c
	ghost.ID, ghost.UserID = []byte{4}, "ghost"
	if err := s.CreateWebAuthnCredential(ctx(), &ghost); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("credential of a missing user: %v, want ErrNotFound", err)
	}
	got, err := s.GetWebAuthnCredential(ctx(), c.ID)
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("GetWebAuthnCredential = %+v, %v; want %+v", got, err, c)
	}
	// The counter moves only from the value the caller read.
	used := at.Add(time.Minute)
	if err := s.UseWebAuthnCredential(ctx(), c.ID, 7, 8, true, used); err != nil {
		t.Fatal(err)
	}
	if err := s.UseWebAuthnCredential(ctx(), c.ID, 7, 9, true, used); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale counter: %v, want ErrConflict", err)
	}
	if err := s.UseWebAuthnCredential(ctx(), []byte{42}, 0, 1, false, used); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing credential: %v, want ErrNotFound", err)
	}
	got, _ = s.GetWebAuthnCredential(ctx(), c.ID)
	if got.SignCount != 8 || !got.BackupState || !got.LastUsedAt.Equal(used) {
		t.Fatalf("after use: %+v", got)
	}
	second := &store.WebAuthnCredential{ID: []byte{5}, UserID: "u", Name: "Key", PublicKey: []byte("k"), CreatedAt: at.Add(time.Second)}
	if err := s.CreateWebAuthnCredential(ctx(), second); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListWebAuthnCredentials(ctx(), "u")
	if err != nil || len(list) != 2 || list[0].Name != "Laptop" || list[1].Name != "Key" {
		t.Fatalf("List = %v, %v", list, err)
	}
	if list, _ := s.ListWebAuthnCredentials(ctx(), "v"); len(list) != 0 {
		t.Fatalf("another user's list: %v", list)
	}
	if err := s.DeleteWebAuthnCredential(ctx(), "v", c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete by another user: %v, want ErrNotFound", err)
	}
	if err := s.DeleteWebAuthnCredential(ctx(), "u", c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetWebAuthnCredential(ctx(), c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted credential: %v", err)
	}
	if err := s.DeleteUser(ctx(), "u"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetWebAuthnCredential(ctx(), second.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("credential survived its user: %v", err)
	}
}

func testTOTP(t *testing.T, s store.Store) {
	if err := s.CreateUser(ctx(), sampleUser("u")); err != nil {
		t.Fatal(err)
	}
	at := store.Truncate(time.Now())
	if _, err := s.GetTOTP(ctx(), "u"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetTOTP before enrolment: %v", err)
	}
	if err := s.UseTOTP(ctx(), "u", 5, true, at); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UseTOTP without a factor: %v", err)
	}
	if err := s.PutTOTP(ctx(), &store.TOTPFactor{UserID: "u", Secret: []byte("one"), CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	// An unconfirmed factor is replaced by a new enrolment, and accepts
	// no code outside enrolment.
	if err := s.PutTOTP(ctx(), &store.TOTPFactor{UserID: "u", Secret: []byte("two"), CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	if err := s.UseTOTP(ctx(), "u", 100, false, at); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("code of an unconfirmed factor: %v, want ErrConflict", err)
	}
	if err := s.UseTOTP(ctx(), "u", 100, true, at); err != nil {
		t.Fatal(err)
	}
	f, err := s.GetTOTP(ctx(), "u")
	if err != nil || string(f.Secret) != "two" || !f.Confirmed || f.LastStep != 100 || !f.LastUsedAt.Equal(at) {
		t.Fatalf("GetTOTP = %+v, %v", f, err)
	}
	// A step is accepted once, and never an earlier one.
	for _, step := range []int64{100, 99} {
		if err := s.UseTOTP(ctx(), "u", step, false, at); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("replayed step %d: %v, want ErrConflict", step, err)
		}
	}
	if err := s.UseTOTP(ctx(), "u", 101, false, at); err != nil {
		t.Fatal(err)
	}
	if err := s.PutTOTP(ctx(), &store.TOTPFactor{UserID: "u", Secret: []byte("three")}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("enrolment over a confirmed factor: %v, want ErrConflict", err)
	}
	if err := s.DeleteTOTP(ctx(), "u"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTOTP(ctx(), "u"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func testRecoveryCodes(t *testing.T, s store.Store) {
	if err := s.CreateUser(ctx(), sampleUser("u")); err != nil {
		t.Fatal(err)
	}
	at := store.Truncate(time.Now())
	if err := s.ReplaceRecoveryCodes(ctx(), "u", []string{"a", "b", "c"}, at); err != nil {
		t.Fatal(err)
	}
	if err := s.UseRecoveryCode(ctx(), "u", "b", at); err != nil {
		t.Fatal(err)
	}
	if err := s.UseRecoveryCode(ctx(), "u", "b", at); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second use: %v, want ErrNotFound", err)
	}
	if err := s.UseRecoveryCode(ctx(), "u", "zzz", at); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown code: %v, want ErrNotFound", err)
	}
	if n, err := s.CountRecoveryCodes(ctx(), "u"); err != nil || n != 2 {
		t.Fatalf("Count = %d, %v", n, err)
	}
	if err := s.ReplaceRecoveryCodes(ctx(), "u", []string{"d"}, at); err != nil {
		t.Fatal(err)
	}
	if err := s.UseRecoveryCode(ctx(), "u", "a", at); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("replaced code: %v, want ErrNotFound", err)
	}
	if n, _ := s.CountRecoveryCodes(ctx(), "u"); n != 1 {
		t.Fatalf("Count after replace = %d", n)
	}
}
