package storetest

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
)

func sampleDeviceGrant(dev, user, client string, now time.Time) *store.DeviceGrant {
	return &store.DeviceGrant{
		DeviceCodeDigest: dev, UserCodeDigest: user, ClientID: client,
		Scopes: []string{"openid", "offline_access"}, Audience: []string{"https://api.example"},
		Interval: 5 * time.Second, CreatedAt: store.Truncate(now), ExpiresAt: store.Truncate(now.Add(10 * time.Minute)),
	}
}

// testDevicesLifecycle: a grant is stored by its digests, found by either,
// decided once, and redeemed once.
func testDevicesLifecycle(t *testing.T, s store.Store) {
	if err := s.CreateClient(ctx(), sampleClient("c")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx(), sampleUser("u")); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	g := sampleDeviceGrant("dev1", "user1", "c", now)
	g.Resources = []string{"https://api.example/orders", "urn:example:inventory"}
	if err := s.CreateDeviceGrant(ctx(), g); err != nil {
		t.Fatal(err)
	}
	for name, dup := range map[string]*store.DeviceGrant{
		"device code": sampleDeviceGrant("dev1", "user2", "c", now),
		"user code":   sampleDeviceGrant("dev2", "user1", "c", now),
	} {
		if err := s.CreateDeviceGrant(ctx(), dup); !errors.Is(err, store.ErrConflict) {
			t.Errorf("a taken %s: %v, want ErrConflict", name, err)
		}
	}
	if err := s.CreateDeviceGrant(ctx(), sampleDeviceGrant("dev3", "user3", "ghost", now)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a grant of a missing client: %v, want ErrNotFound", err)
	}
	got, err := s.GetDeviceGrant(ctx(), "dev1")
	if err != nil {
		t.Fatal(err)
	}
	want := *g
	want.Status = store.DevicePending
	if !reflect.DeepEqual(got, &want) {
		t.Fatalf("GetDeviceGrant = %+v, want %+v", got, &want)
	}
	if byUser, err := s.GetDeviceGrantByUserCode(ctx(), "user1"); err != nil || !reflect.DeepEqual(byUser, &want) {
		t.Fatalf("GetDeviceGrantByUserCode = %+v, %v", byUser, err)
	}
	for name, err := range map[string]error{
		"GetDeviceGrant":           second(s.GetDeviceGrant(ctx(), "nope")),
		"GetDeviceGrantByUserCode": second(s.GetDeviceGrantByUserCode(ctx(), "nope")),
		"RedeemDeviceGrant":        s.RedeemDeviceGrant(ctx(), "nope", now),
		"DecideDeviceGrant":        s.DecideDeviceGrant(ctx(), "nope", store.DeviceDecision{Approved: true, UserID: "u", At: now}),
	} {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s of a missing grant: %v, want ErrNotFound", name, err)
		}
	}
	// Not approved yet: nothing to redeem.
	if err := s.RedeemDeviceGrant(ctx(), "dev1", now); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("redeem a pending grant: %v, want ErrConflict", err)
	}
	authTime := store.Truncate(now.Add(-time.Minute))
	decided := store.Truncate(now.Add(time.Second))
	if err := s.DecideDeviceGrant(ctx(), "user1", store.DeviceDecision{Approved: true, UserID: "u", AuthTime: authTime, At: decided}); err != nil {
		t.Fatal(err)
	}
	// Only the first decision counts.
	if err := s.DecideDeviceGrant(ctx(), "user1", store.DeviceDecision{Approved: false, UserID: "u", At: decided}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a second decision: %v, want ErrConflict", err)
	}
	got, _ = s.GetDeviceGrant(ctx(), "dev1")
	if got.Status != store.DeviceApproved || got.UserID != "u" || !got.AuthTime.Equal(authTime) || !got.DecidedAt.Equal(decided) {
		t.Fatalf("after approval: %+v", got)
	}
	// Redeemed exactly once, however many try at once.
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.RedeemDeviceGrant(ctx(), "dev1", decided)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, store.ErrConflict):
				t.Errorf("concurrent redeem: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d redemptions succeeded, want exactly 1", wins)
	}
	got, _ = s.GetDeviceGrant(ctx(), "dev1")
	if got.Status != store.DeviceRedeemed || !got.RedeemedAt.Equal(decided) {
		t.Fatalf("after redemption: %+v", got)
	}

	// A denial is final and cannot be redeemed.
	if err := s.CreateDeviceGrant(ctx(), sampleDeviceGrant("dev4", "user4", "c", now)); err != nil {
		t.Fatal(err)
	}
	if err := s.DecideDeviceGrant(ctx(), "user4", store.DeviceDecision{Approved: false, UserID: "u", At: decided}); err != nil {
		t.Fatal(err)
	}
	if err := s.RedeemDeviceGrant(ctx(), "dev4", decided); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("redeem a denied grant: %v, want ErrConflict", err)
	}
	if got, _ := s.GetDeviceGrant(ctx(), "dev4"); got.Status != store.DeviceDenied || got.UserID != "u" {
		t.Fatalf("after denial: %+v", got)
	}

	// Grants go with their client, and a decided one with its user.
	if err := s.DeleteUser(ctx(), "u"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetDeviceGrant(ctx(), "dev4"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a grant decided by a deleted user: %v, want ErrNotFound", err)
	}
	if err := s.CreateDeviceGrant(ctx(), sampleDeviceGrant("dev5", "user5", "c", now)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteClient(ctx(), "c"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetDeviceGrant(ctx(), "dev5"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a grant of a deleted client: %v, want ErrNotFound", err)
	}
}

// testDevicesPoll: a poll sooner than the interval (less the slack) after
// the previous one of a pending grant is too fast and adds 5 s to the
// interval; the first poll never is, and a decided grant never slows.
func testDevicesPoll(t *testing.T, s store.Store) {
	if err := s.CreateClient(ctx(), sampleClient("c")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx(), sampleUser("u")); err != nil {
		t.Fatal(err)
	}
	t0 := store.Truncate(time.Now())
	if err := s.CreateDeviceGrant(ctx(), sampleDeviceGrant("dev", "user", "c", t0)); err != nil {
		t.Fatal(err)
	}
	const slack = 500 * time.Millisecond
	steps := []struct {
		after    time.Duration // since t0
		slowDown bool
		interval time.Duration // after the poll
	}{
		{0, false, 5 * time.Second},                                    // the first poll
		{5 * time.Second, false, 5 * time.Second},                      // exactly the interval
		{9*time.Second + 600*time.Millisecond, false, 5 * time.Second}, // within the slack
		{11 * time.Second, true, 10 * time.Second},                     // 1.4 s after the last
		{20 * time.Second, true, 15 * time.Second},                     // 9 s < 10 s - slack
		{35 * time.Second, false, 15 * time.Second},                    // 15 s
	}
	for i, st := range steps {
		g, slow, err := s.PollDeviceGrant(ctx(), "dev", t0.Add(st.after), slack)
		if err != nil {
			t.Fatalf("poll %d: %v", i, err)
		}
		if slow != st.slowDown || g.Interval != st.interval || !g.LastPolledAt.Equal(t0.Add(st.after)) {
			t.Fatalf("poll %d at +%s: slowDown %v, interval %s, last poll %s; want %v, %s, %s",
				i, st.after, slow, g.Interval, g.LastPolledAt, st.slowDown, st.interval, t0.Add(st.after))
		}
	}
	if _, _, err := s.PollDeviceGrant(ctx(), "nope", t0, slack); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("poll of a missing grant: %v, want ErrNotFound", err)
	}
	// Once decided, polling fast is not slowed: the answer is ready.
	if err := s.DecideDeviceGrant(ctx(), "user", store.DeviceDecision{Approved: true, UserID: "u", At: t0.Add(36 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	g, slow, err := s.PollDeviceGrant(ctx(), "dev", t0.Add(36*time.Second), slack)
	if err != nil || slow || g.Status != store.DeviceApproved || g.Interval != 15*time.Second {
		t.Fatalf("poll of an approved grant: %+v, slowDown %v, %v", g, slow, err)
	}
	// Concurrent polls are each judged against the one before: of 6 at
	// the same moment, the first is on time and every other is too fast.
	if err := s.CreateDeviceGrant(ctx(), sampleDeviceGrant("dev2", "user2", "c", t0)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.PollDeviceGrant(ctx(), "dev2", t0, slack); err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		slows int
	)
	at := t0.Add(time.Hour)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, slow, err := s.PollDeviceGrant(ctx(), "dev2", at, slack)
			if err != nil {
				t.Errorf("concurrent poll: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if slow {
				slows++
			}
		}()
	}
	wg.Wait()
	if g, _ := s.GetDeviceGrant(ctx(), "dev2"); slows != 5 || g.Interval != 5*time.Second+25*time.Second {
		t.Fatalf("6 concurrent polls: %d slowed, interval %s; want 5 and 30s", slows, g.Interval)
	}
}

// testDevicesExpiry: an expired grant cannot be decided, and is pruned.
func testDevicesExpiry(t *testing.T, s store.Store) {
	if err := s.CreateClient(ctx(), sampleClient("c")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx(), sampleUser("u")); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	old := sampleDeviceGrant("old", "old-user", "c", now.Add(-time.Hour))
	fresh := sampleDeviceGrant("fresh", "fresh-user", "c", now)
	for _, g := range []*store.DeviceGrant{old, fresh} {
		if err := s.CreateDeviceGrant(ctx(), g); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DecideDeviceGrant(ctx(), "old-user", store.DeviceDecision{Approved: true, UserID: "u", At: now}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("approve an expired grant: %v, want ErrConflict", err)
	}
	if g, _ := s.GetDeviceGrant(ctx(), "old"); g.Status != store.DevicePending {
		t.Fatalf("an expired grant was decided: %+v", g)
	}
	n, err := s.DeleteExpiredDeviceGrants(ctx(), now)
	if err != nil || n != 1 {
		t.Fatalf("DeleteExpiredDeviceGrants = %d, %v; want 1", n, err)
	}
	if _, err := s.GetDeviceGrant(ctx(), "old"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("expired grant kept: %v", err)
	}
	if _, err := s.GetDeviceGrant(ctx(), "fresh"); err != nil {
		t.Fatalf("fresh grant pruned: %v", err)
	}
}

func second[T any](_ T, err error) error { return err }
