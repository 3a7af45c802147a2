package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
)

func sampleWebhook(id string) *store.Webhook {
	return &store.Webhook{
		ID:          id,
		URL:         "https://hooks.example/" + id,
		EventTypes:  []string{"client.*", "api_key.created"},
		Description: "Hook " + id,
		Secret:      []byte{0, 1, 2, 0xff},
		Enabled:     true,
	}
}

func testWebhooksCRUD(t *testing.T, s store.Store) {
	w := sampleWebhook("w1")
	if err := s.CreateWebhook(ctx(), w); err != nil {
		t.Fatal(err)
	}
	if w.CreatedAt.IsZero() || time.Since(w.CreatedAt) > time.Minute {
		t.Fatalf("CreatedAt not set: %v", w.CreatedAt)
	}
	got, err := s.GetWebhook(ctx(), "w1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, w) {
		t.Fatalf("GetWebhook:\n got %+v\nwant %+v", got, w)
	}
	w.URL, w.EventTypes, w.Enabled, w.Secret = "http://127.0.0.1:9/x", nil, false, []byte("new")
	if err := s.UpdateWebhook(ctx(), w); err != nil {
		t.Fatal(err)
	}
	got, err = s.GetWebhook(ctx(), "w1")
	if err != nil || !reflect.DeepEqual(got, w) {
		t.Fatalf("after update:\n got %+v, %v\nwant %+v", got, err, w)
	}
	if err := s.CreateWebhook(ctx(), sampleWebhook("w1")); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate id: %v, want ErrConflict", err)
	}
	if err := s.DeleteWebhook(ctx(), "w1"); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"GetWebhook":    errOf(s.GetWebhook(ctx(), "w1")),
		"DeleteWebhook": s.DeleteWebhook(ctx(), "w1"),
		"UpdateWebhook": s.UpdateWebhook(ctx(), sampleWebhook("w1")),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s after delete: %v, want ErrNotFound", name, err)
		}
	}
}

func testWebhooksPagination(t *testing.T, s store.Store) {
	for i := range 5 {
		if err := s.CreateWebhook(ctx(), sampleWebhook(fmt.Sprintf("w%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	page1, next, err := s.ListWebhooks(ctx(), store.Page{Limit: 2})
	if err != nil || len(page1) != 2 || page1[0].ID != "w0" || next != "w1" {
		t.Fatalf("page 1: %d items, next %q, %v", len(page1), next, err)
	}
	page3, next, err := s.ListWebhooks(ctx(), store.Page{Limit: 2, Cursor: "w3"})
	if err != nil || len(page3) != 1 || page3[0].ID != "w4" || next != "" {
		t.Fatalf("last page: %v, next %q, %v", page3, next, err)
	}
	if !bytes.Equal(page3[0].Secret, sampleWebhook("w4").Secret) {
		t.Fatalf("listed secret = %x", page3[0].Secret)
	}
}

func testIdempotency(t *testing.T, s store.Store) {
	now := store.Truncate(time.Now())
	r := &store.IdempotencyRecord{Principal: "client:a", Key: "k1", RequestHash: []byte{1, 2, 3}, CreatedAt: now}
	if err := s.CreateIdempotencyRecord(ctx(), r); err != nil {
		t.Fatal(err)
	}
	// The same key of another principal is another record.
	other := *r
	other.Principal = "user:b"
	if err := s.CreateIdempotencyRecord(ctx(), &other); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateIdempotencyRecord(ctx(), r); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate: %v, want ErrConflict", err)
	}
	got, err := s.GetIdempotencyRecord(ctx(), "client:a", "k1")
	if err != nil || got.Status != 0 || len(got.Body) != 0 || !got.CreatedAt.Equal(now) ||
		!bytes.Equal(got.RequestHash, r.RequestHash) {
		t.Fatalf("pending record: %+v, %v", got, err)
	}
	if err := s.CompleteIdempotencyRecord(ctx(), "client:a", "k1", 201, []byte("sealed")); err != nil {
		t.Fatal(err)
	}
	got, err = s.GetIdempotencyRecord(ctx(), "client:a", "k1")
	if err != nil || got.Status != 201 || string(got.Body) != "sealed" {
		t.Fatalf("completed record: %+v, %v", got, err)
	}
	if err := s.CompleteIdempotencyRecord(ctx(), "client:a", "nope", 200, nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("complete unknown: %v, want ErrNotFound", err)
	}
	if err := s.DeleteIdempotencyRecord(ctx(), "user:b", "k1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetIdempotencyRecord(ctx(), "user:b", "k1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get deleted: %v, want ErrNotFound", err)
	}
	old := &store.IdempotencyRecord{Principal: "client:a", Key: "old", RequestHash: []byte{9},
		CreatedAt: now.Add(-25 * time.Hour)}
	if err := s.CreateIdempotencyRecord(ctx(), old); err != nil {
		t.Fatal(err)
	}
	n, err := s.PruneIdempotencyRecords(ctx(), now.Add(-24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("prune: %d, %v; want 1", n, err)
	}
	if _, err := s.GetIdempotencyRecord(ctx(), "client:a", "k1"); err != nil {
		t.Fatalf("prune removed a fresh record: %v", err)
	}
}
