package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
)

// testBackchannelSessionClients: a session's clients are recorded once,
// read by session and by user, and go with the session.
func testBackchannelSessionClients(t *testing.T, s store.Store) {
	for _, id := range []string{"u", "v"} {
		if err := s.CreateUser(ctx(), sampleUser(id)); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"a", "b"} {
		if err := s.CreateClient(ctx(), sampleClient(id)); err != nil {
			t.Fatal(err)
		}
	}
	exp := store.Truncate(time.Now().Add(time.Hour))
	for _, bs := range []*store.BrowserSession{{ID: "s1", UserID: "u"}, {ID: "s2", UserID: "u"}, {ID: "s3", UserID: "v"}} {
		bs.ExpiresAt = exp
		if err := s.CreateBrowserSession(ctx(), bs); err != nil {
			t.Fatal(err)
		}
	}
	for _, sc := range [][3]string{{"s1", "b", "u"}, {"s1", "a", "u"}, {"s1", "a", "u"}, {"s2", "a", "u"}, {"s3", "a", "v"}} {
		c := store.SessionClient{SessionID: sc[0], ClientID: sc[1], UserID: sc[2]}
		if err := s.AddSessionClient(ctx(), &c); err != nil {
			t.Fatalf("AddSessionClient(%+v): %v", c, err)
		}
	}
	got, err := s.SessionClients(ctx(), "s1")
	if err != nil || len(got) != 2 || got[0].ClientID != "a" || got[1].ClientID != "b" || got[0].UserID != "u" || got[0].CreatedAt.IsZero() {
		t.Fatalf("SessionClients(s1) = %+v, %v", got, err)
	}
	got, err = s.UserSessionClients(ctx(), "u")
	if err != nil || len(got) != 3 || got[0].SessionID != "s1" || got[2].SessionID != "s2" {
		t.Fatalf("UserSessionClients(u) = %+v, %v", got, err)
	}
	if err := s.DeleteBrowserSession(ctx(), "s2"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.SessionClients(ctx(), "s2"); err != nil || len(got) != 0 {
		t.Fatalf("clients survived their session: %+v, %v", got, err)
	}
	if n, err := s.DeleteUserBrowserSessions(ctx(), "u"); err != nil || n != 1 {
		t.Fatalf("DeleteUserBrowserSessions = %d, %v", n, err)
	}
	if got, err := s.UserSessionClients(ctx(), "u"); err != nil || len(got) != 0 {
		t.Fatalf("after DeleteUserBrowserSessions: %+v, %v", got, err)
	}
	if _, err := s.GetBrowserSession(ctx(), "s3"); err != nil {
		t.Fatalf("another user's session went too: %v", err)
	}
}

// testBackchannelOutbox: queued logouts are leased to one owner at a
// time, attempts are recorded by the holder only, and a rolled-back
// transaction queues nothing.
func testBackchannelOutbox(t *testing.T, s store.Store) {
	if err := s.CreateClient(ctx(), sampleClient("c")); err != nil {
		t.Fatal(err)
	}
	now := store.Truncate(time.Now())
	ds := []*store.LogoutDelivery{{ClientID: "c", Subject: "u", SID: "sid1", JTI: "j1"},
		{ClientID: "c", Subject: "u", JTI: "j2", NextAttemptAt: now.Add(time.Hour)}}
	if err := s.QueueLogouts(ctx(), ds); err != nil {
		t.Fatal(err)
	}
	if ds[0].ID == 0 || ds[1].ID == ds[0].ID || ds[0].CreatedAt.IsZero() {
		t.Fatalf("QueueLogouts did not set IDs: %+v %+v", ds[0], ds[1])
	}
	errBoom := errors.New("boom")
	err := s.InTx(ctx(), func(ctx context.Context) error {
		if err := s.QueueLogouts(ctx, []*store.LogoutDelivery{{ClientID: "c", Subject: "x", JTI: "rolled-back"}}); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("InTx = %v", err)
	}
	leased, err := s.LeaseLogouts(ctx(), "A", now.Add(time.Second), now.Add(time.Minute), 10)
	if err != nil || len(leased) != 1 || leased[0].JTI != "j1" || leased[0].SID != "sid1" || leased[0].Subject != "u" ||
		leased[0].Status != store.DeliveryPending {
		t.Fatalf("LeaseLogouts(A) = %+v, %v", leased, err)
	}
	if got, err := s.LeaseLogouts(ctx(), "B", now.Add(time.Second), now.Add(time.Minute), 10); err != nil || len(got) != 0 {
		t.Fatalf("B leased A's delivery: %+v, %v", got, err)
	}
	at := now.Add(2 * time.Second)
	if err := s.RecordLogoutAttempt(ctx(), ds[0].ID, "B", at, 500, "status 500",
		store.AttemptResult{Status: store.DeliveryPending, NextAttemptAt: at.Add(5 * time.Second)}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RecordLogoutAttempt by a non-holder = %v, want ErrNotFound", err)
	}
	if err := s.RecordLogoutAttempt(ctx(), ds[0].ID, "A", at, 500, "status 500",
		store.AttemptResult{Status: store.DeliveryPending, NextAttemptAt: at.Add(5 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetLogoutDelivery(ctx(), ds[0].ID)
	if err != nil || got.Attempts != 1 || got.LastStatus != 500 || got.LastError != "status 500" ||
		!got.FirstAttemptAt.Equal(at) || !got.NextAttemptAt.Equal(at.Add(5*time.Second)) {
		t.Fatalf("after a failed attempt: %+v, %v", got, err)
	}
	// Released: not due yet for anyone, then due for B.
	if got, err := s.LeaseLogouts(ctx(), "B", at.Add(time.Second), at.Add(time.Minute), 10); err != nil || len(got) != 0 {
		t.Fatalf("leased before due: %+v, %v", got, err)
	}
	if got, err := s.LeaseLogouts(ctx(), "B", at.Add(6*time.Second), at.Add(time.Minute), 10); err != nil || len(got) != 1 {
		t.Fatalf("LeaseLogouts(B) when due = %+v, %v", got, err)
	}
	at2 := at.Add(7 * time.Second)
	if err := s.RecordLogoutAttempt(ctx(), ds[0].ID, "B", at2, 204, "", store.AttemptResult{Status: store.DeliveryDelivered}); err != nil {
		t.Fatal(err)
	}
	got, err = s.GetLogoutDelivery(ctx(), ds[0].ID)
	if err != nil || got.Status != store.DeliveryDelivered || got.Attempts != 2 || !got.FirstAttemptAt.Equal(at) || !got.LastAttemptAt.Equal(at2) {
		t.Fatalf("after delivery: %+v, %v", got, err)
	}
	list, err := s.ClientLogouts(ctx(), "c", 10)
	if err != nil || len(list) != 2 || list[0].ID != ds[1].ID {
		t.Fatalf("ClientLogouts = %+v, %v", list, err)
	}
	if n, err := s.PruneLogouts(ctx(), now.Add(time.Minute)); err != nil || n != 1 {
		t.Fatalf("PruneLogouts = %d, %v", n, err)
	}
	if _, err := s.GetLogoutDelivery(ctx(), ds[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("pruned delivery: %v", err)
	}
	// An expired lease is free for another owner.
	far := now.Add(2 * time.Hour)
	if got, err := s.LeaseLogouts(ctx(), "A", far, far.Add(time.Second), 10); err != nil || len(got) != 1 {
		t.Fatalf("lease j2: %+v, %v", got, err)
	}
	if got, err := s.LeaseLogouts(ctx(), "B", far.Add(2*time.Second), far.Add(time.Minute), 10); err != nil || len(got) != 1 || got[0].JTI != "j2" {
		t.Fatalf("expired lease not taken over: %+v, %v", got, err)
	}
	if err := s.DeleteClient(ctx(), "c"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetLogoutDelivery(ctx(), ds[1].ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delivery survived its client: %v", err)
	}
}
