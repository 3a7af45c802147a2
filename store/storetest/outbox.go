package storetest

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
)

// testTransactions checks InTx: a change and its audit event commit
// together or not at all, a failed savepoint undoes only its own writes,
// and AfterCommit waits for the commit.
func testTransactions(t *testing.T, s store.Store) {
	boom := errors.New("boom")
	var ran []string
	err := s.InTx(ctx(), func(ctx context.Context) error {
		if err := s.CreateClient(ctx, sampleClient("rolled")); err != nil {
			return err
		}
		if err := s.AppendAudit(ctx, &store.AuditEvent{ID: "ev-rolled", Type: "client.created", Actor: "cli", Subject: "rolled"}); err != nil {
			return err
		}
		s.AfterCommit(ctx, func() { ran = append(ran, "rolled") })
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want the function's error", err)
	}
	if _, err := s.GetClient(ctx(), "rolled"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("client of a rolled-back transaction: %v", err)
	}
	if evs, _, _ := s.ListAudit(ctx(), store.AuditFilter{}, store.Page{}); len(evs) != 0 {
		t.Fatalf("audit event of a rolled-back transaction: %+v", evs[0])
	}
	if len(ran) != 0 {
		t.Fatalf("AfterCommit ran for a rollback: %v", ran)
	}

	err = s.InTx(ctx(), func(ctx context.Context) error {
		if err := s.CreateClient(ctx, sampleClient("kept")); err != nil {
			return err
		}
		// A nested transaction that fails is a savepoint: only its
		// writes go.
		if err := s.InTx(ctx, func(ctx context.Context) error {
			if err := s.CreateClient(ctx, sampleClient("inner")); err != nil {
				return err
			}
			s.AfterCommit(ctx, func() { ran = append(ran, "inner") })
			return boom
		}); !errors.Is(err, boom) {
			return err
		}
		// An error that the caller handles goes in a savepoint: on
		// PostgreSQL a failed statement ends the transaction otherwise.
		if err := s.InTx(ctx, func(ctx context.Context) error {
			return s.CreateClient(ctx, sampleClient("kept"))
		}); !errors.Is(err, store.ErrConflict) {
			t.Errorf("duplicate inside a transaction: %v", err)
		}
		s.AfterCommit(ctx, func() { ran = append(ran, "kept") })
		if len(ran) != 0 {
			t.Errorf("AfterCommit ran before the commit")
		}
		return s.AppendAudit(ctx, &store.AuditEvent{ID: "ev-kept", Type: "client.created", Actor: "cli", Subject: "kept"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetClient(ctx(), "kept"); err != nil {
		t.Fatalf("committed client: %v", err)
	}
	if _, err := s.GetClient(ctx(), "inner"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("client of a failed savepoint: %v", err)
	}
	if evs, _, _ := s.ListAudit(ctx(), store.AuditFilter{}, store.Page{}); len(evs) != 1 || evs[0].ID != "ev-kept" {
		t.Fatalf("audit after commit: %v", evs)
	}
	if len(ran) == 0 || ran[len(ran)-1] != "kept" {
		t.Fatalf("AfterCommit after the commit: %v", ran)
	}
	if contains(ran, "inner") {
		t.Fatalf("AfterCommit ran for a rolled-back savepoint: %v", ran)
	}
	done := false
	s.AfterCommit(ctx(), func() { done = true })
	if !done {
		t.Fatal("AfterCommit outside a transaction must run at once")
	}
}

func audit(t *testing.T, s store.Store, id, typ, subject string) {
	t.Helper()
	if err := s.AppendAudit(ctx(), &store.AuditEvent{ID: id, Type: typ, Actor: "cli", Subject: subject, Data: []byte(`{"n":1}`)}); err != nil {
		t.Fatal(err)
	}
}

// testOutbox checks the webhook outbox: fan-out in AppendAudit, the due
// head per webhook, leases, attempts, the delivery log, redelivery,
// statistics and pruning.
func testOutbox(t *testing.T, s store.Store) {
	all := sampleWebhook("all")
	all.EventTypes = nil
	clients := sampleWebhook("clients")
	clients.EventTypes = []string{"client.*"}
	users := sampleWebhook("users")
	users.EventTypes = []string{"user.created"}
	off := sampleWebhook("off")
	off.EventTypes = []string{"*"}
	off.Enabled = false
	for _, w := range []*store.Webhook{all, clients, users, off} {
		if err := s.CreateWebhook(ctx(), w); err != nil {
			t.Fatal(err)
		}
	}
	audit(t, s, "e1", "client.created", "c1")
	audit(t, s, "e2", "user.created", "u1")
	audit(t, s, "e3", "client.deleted", "c1")
	audit(t, s, "e4", store.WebhookTestEvent, "users")

	want := map[string][]string{"all": {"e1", "e2", "e3"}, "clients": {"e1", "e3"}, "users": {"e2", "e4"}, "off": nil}
	for hook, events := range want {
		got, err := s.PendingDeliveries(ctx(), hook, 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range got {
			ids = append(ids, d.EventID)
			if d.Event == nil || d.Event.ID != d.EventID || string(d.Event.Data) == "" || d.Status != store.DeliveryPending {
				t.Fatalf("%s: delivery %+v", hook, d)
			}
		}
		if strconv.Quote(join(ids)) != strconv.Quote(join(events)) {
			t.Fatalf("%s: pending %v, want %v", hook, ids, events)
		}
	}
	st, err := s.OutboxStats(ctx())
	if err != nil || st.Pending != 7 || st.Oldest.IsZero() {
		t.Fatalf("OutboxStats = %+v, %v", st, err)
	}

	now := time.Now()
	due, err := s.DueWebhooks(ctx(), "a", now.Add(time.Second), 10)
	if err != nil || len(due) != 3 {
		t.Fatalf("DueWebhooks = %v, %v", due, err)
	}
	// Leases: one owner at a time until the lease expires.
	if ok, err := s.LeaseWebhook(ctx(), "clients", "a", now, now.Add(time.Minute)); !ok || err != nil {
		t.Fatalf("lease: %v %v", ok, err)
	}
	if ok, _ := s.LeaseWebhook(ctx(), "clients", "b", now, now.Add(time.Minute)); ok {
		t.Fatal("a second owner took a held lease")
	}
	if ok, _ := s.LeaseWebhook(ctx(), "clients", "a", now, now.Add(2*time.Minute)); !ok {
		t.Fatal("the owner could not extend its lease")
	}
	if due, _ := s.DueWebhooks(ctx(), "b", now.Add(time.Second), 10); contains(due, "clients") {
		t.Fatal("a webhook leased by another owner is due")
	}
	if ok, _ := s.LeaseWebhook(ctx(), "clients", "b", now.Add(3*time.Minute), now.Add(4*time.Minute)); !ok {
		t.Fatal("an expired lease was not taken over")
	}
	if err := s.ReleaseWebhook(ctx(), "clients", "b"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.LeaseWebhook(ctx(), "clients", "a", now, now.Add(time.Minute)); !ok {
		t.Fatal("a released lease was not free")
	}

	// A failed attempt: the head waits, the webhook is failing.
	pend, _ := s.PendingDeliveries(ctx(), "clients", 10)
	head := pend[0]
	fail := &store.Attempt{DeliveryID: head.ID, AttemptedAt: store.Truncate(now), StatusCode: 503,
		Latency: 1500 * time.Microsecond, Error: "status 503", Response: "try later"}
	if err := s.RecordAttempt(ctx(), fail, store.AttemptResult{Status: store.DeliveryPending, NextAttemptAt: now.Add(time.Hour)}); err != nil || fail.ID == 0 {
		t.Fatalf("RecordAttempt = %v (id %d)", err, fail.ID)
	}
	if due, _ := s.DueWebhooks(ctx(), "a", now.Add(time.Second), 10); contains(due, "clients") {
		t.Fatal("a webhook whose head waits for its retry is due")
	}
	if w, _ := s.GetWebhook(ctx(), "clients"); !w.FailingSince.Equal(store.Truncate(now)) {
		t.Fatalf("FailingSince = %v", w.FailingSince)
	}
	later := store.Truncate(now.Add(time.Hour))
	ok := &store.Attempt{DeliveryID: head.ID, AttemptedAt: later, StatusCode: 204, Latency: time.Millisecond}
	if err := s.RecordAttempt(ctx(), ok, store.AttemptResult{Status: store.DeliveryDelivered}); err != nil {
		t.Fatal(err)
	}
	if w, _ := s.GetWebhook(ctx(), "clients"); !w.FailingSince.IsZero() {
		t.Fatalf("FailingSince after a success = %v", w.FailingSince)
	}
	got, err := s.GetDelivery(ctx(), "clients", head.ID)
	if err != nil || got.Status != store.DeliveryDelivered || got.Attempts != 2 || got.LastStatus != 204 ||
		!got.FirstAttemptAt.Equal(store.Truncate(now)) || !got.LastAttemptAt.Equal(later) {
		t.Fatalf("delivery after two attempts: %+v, %v", got, err)
	}
	if _, err := s.GetDelivery(ctx(), "users", head.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delivery of another webhook: %v", err)
	}
	atts, err := s.ListAttempts(ctx(), head.ID)
	if err != nil || len(atts) != 2 || atts[0].StatusCode != 503 || atts[0].Response != "try later" ||
		atts[0].Latency != 1500*time.Microsecond || atts[1].StatusCode != 204 {
		t.Fatalf("ListAttempts = %+v, %v", atts, err)
	}
	if err := s.RecordAttempt(ctx(), &store.Attempt{DeliveryID: 1 << 40, AttemptedAt: now}, store.AttemptResult{Status: store.DeliveryDelivered}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("attempt of a missing delivery: %v", err)
	}

	// Redelivery: one event, or every selected event since a time.
	if n, err := s.Redeliver(ctx(), "clients", "e1", time.Time{}); err != nil || n != 1 {
		t.Fatalf("Redeliver(event) = %d, %v", n, err)
	}
	if _, err := s.Redeliver(ctx(), "clients", "nope", time.Time{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Redeliver(missing event) = %v", err)
	}
	if _, err := s.Redeliver(ctx(), "nope", "e1", time.Time{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Redeliver(missing webhook) = %v", err)
	}
	if n, err := s.Redeliver(ctx(), "clients", "", now.Add(-time.Hour)); err != nil || n != 2 {
		t.Fatalf("Redeliver(since) = %d, %v (want e1 and e3)", n, err)
	}
	if n, _ := s.Redeliver(ctx(), "clients", "", now.Add(time.Hour)); n != 0 {
		t.Fatalf("Redeliver(since the future) = %d", n)
	}
	pend, _ = s.PendingDeliveries(ctx(), "clients", 10)
	if ids := eventIDs(pend); join(ids) != "e3,e1,e1,e3" {
		t.Fatalf("pending after redelivery: %v", ids)
	}

	// The delivery log: newest first, in pages.
	page, next, err := s.ListDeliveries(ctx(), "clients", store.Page{Limit: 3})
	if err != nil || len(page) != 3 || next == "" || page[0].ID < page[1].ID {
		t.Fatalf("ListDeliveries = %d, %q, %v", len(page), next, err)
	}
	rest, next2, err := s.ListDeliveries(ctx(), "clients", store.Page{Limit: 3, Cursor: next})
	if err != nil || len(rest) != 2 || next2 != "" || rest[0].ID >= page[2].ID {
		t.Fatalf("ListDeliveries page 2 = %d, %q, %v", len(rest), next2, err)
	}
	if _, _, err := s.ListDeliveries(ctx(), "clients", store.Page{Cursor: "x"}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("bad cursor: %v", err)
	}

	// Pruning removes finished deliveries (and their attempts) only.
	if n, err := s.PruneDeliveries(ctx(), time.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("PruneDeliveries = %d, %v", n, err)
	}
	if atts, _ := s.ListAttempts(ctx(), head.ID); len(atts) != 0 {
		t.Fatalf("attempts of a pruned delivery remain: %d", len(atts))
	}

	// Re-enabling a disabled webhook clears its failing run; deleting one
	// deletes its deliveries.
	w, _ := s.GetWebhook(ctx(), "users")
	pend, _ = s.PendingDeliveries(ctx(), "users", 10)
	_ = s.RecordAttempt(ctx(), &store.Attempt{DeliveryID: pend[0].ID, AttemptedAt: now}, store.AttemptResult{Status: store.DeliveryPending, NextAttemptAt: now})
	w.Enabled = false
	w.PreviousSecret, w.PreviousSecretUntil = []byte{9, 9}, store.Truncate(now.Add(time.Hour))
	if err := s.UpdateWebhook(ctx(), w); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetWebhook(ctx(), "users"); got.FailingSince.IsZero() || string(got.PreviousSecret) != "\x09\x09" || !got.PreviousSecretUntil.Equal(w.PreviousSecretUntil) {
		t.Fatalf("disabled webhook: %+v", got)
	}
	w.Enabled = true
	if err := s.UpdateWebhook(ctx(), w); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetWebhook(ctx(), "users"); !got.FailingSince.IsZero() {
		t.Fatalf("re-enabled webhook still failing since %v", got.FailingSince)
	}
	if err := s.DeleteWebhook(ctx(), "all"); err != nil {
		t.Fatal(err)
	}
	if pend, _ := s.PendingDeliveries(ctx(), "all", 10); len(pend) != 0 {
		t.Fatalf("deliveries of a deleted webhook: %d", len(pend))
	}
}

// testOutboxAtomic checks that an event appended in a transaction that
// rolls back leaves no delivery, and that concurrent appends each get
// theirs.
func testOutboxAtomic(t *testing.T, s store.Store) {
	if err := s.CreateWebhook(ctx(), sampleWebhook("w")); err != nil {
		t.Fatal(err)
	}
	_ = s.InTx(ctx(), func(ctx context.Context) error {
		if err := s.AppendAudit(ctx, &store.AuditEvent{ID: "gone", Type: "client.created", Actor: "cli"}); err != nil {
			return err
		}
		return errors.New("no")
	})
	if pend, _ := s.PendingDeliveries(ctx(), "w", 10); len(pend) != 0 {
		t.Fatalf("delivery of a rolled-back event: %+v", pend[0])
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.AppendAudit(ctx(), &store.AuditEvent{ID: "c" + strconv.Itoa(100+i), Type: "client.updated", Actor: "cli"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if pend, _ := s.PendingDeliveries(ctx(), "w", 100); len(pend) != 20 {
		t.Fatalf("deliveries of 20 concurrent events: %d", len(pend))
	}
}

func eventIDs(ds []*store.Delivery) []string {
	var ids []string
	for _, d := range ds {
		ids = append(ids, d.EventID)
	}
	return ids
}

func join(v []string) string {
	out := ""
	for i, s := range v {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out
}

func contains(v []string, s string) bool {
	for _, x := range v {
		if x == s {
			return true
		}
	}
	return false
}
