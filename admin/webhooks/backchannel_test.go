package webhooks

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/store"
)

// fakeTokens answers LogoutToken with a fixed URI per client, or errGone.
type fakeTokens struct{ uris map[string]string }

var errGone = errors.New("gone")

func (f fakeTokens) LogoutToken(_ context.Context, d *store.LogoutDelivery) (string, string, error) {
	u, ok := f.uris[d.ClientID]
	if !ok {
		return "", "", errGone
	}
	return u, "token-" + d.JTI, nil
}

type outcomes struct {
	mu sync.Mutex
	n  map[string]int
}

func (o *outcomes) LogoutDelivered(outcome string) {
	o.mu.Lock()
	o.n[outcome]++
	o.mu.Unlock()
}

func (o *outcomes) get(k string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n[k]
}

// TestDispatcherLogouts: the dispatcher delivers the logout outbox with
// the webhooks' retries — each token once to a receiver answering 204,
// shared by two dispatchers (per-row leases); a client that no longer
// listens is dropped; one whose receiver keeps failing is given up after
// RetryFor.
func TestDispatcherLogouts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var (
		mu   sync.Mutex
		seen = map[string]int{}
	)
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		seen[r.PostForm.Get("logout_token")]++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer ok.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer bad.Close()
	var ids []string
	for _, name := range []string{"ok", "bad", "gone"} {
		c, _, err := f.st.Clients.Create(ctx, clients.Params{Name: name, RedirectURIs: []string{"https://rp.example/cb"}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	var ds []*store.LogoutDelivery
	for i := range 40 {
		ds = append(ds, &store.LogoutDelivery{ClientID: ids[0], Subject: "u", JTI: "j" + string(rune('A'+i%26)) + string(rune('a'+i/26))})
	}
	ds = append(ds, &store.LogoutDelivery{ClientID: ids[1], Subject: "u", JTI: "bad"},
		&store.LogoutDelivery{ClientID: ids[2], Subject: "u", JTI: "gone"})
	if err := f.db.QueueLogouts(ctx, ds); err != nil {
		t.Fatal(err)
	}
	obs := &outcomes{n: map[string]int{}}
	tokens := fakeTokens{uris: map[string]string{ids[0]: ok.URL + "/bc", ids[1]: bad.URL + "/bc"}}
	for range 2 {
		d := f.newDispatcher(t, Config{Logouts: &LogoutConfig{Store: f.db, Tokens: tokens, Gone: errGone,
			RetryFor: 300 * time.Millisecond, Observer: obs}})
		run(t, d)
	}
	deadline := time.Now().Add(20 * time.Second)
	for obs.get("delivered") < 40 || obs.get("failed") < 1 || obs.get("dropped") < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("outcomes %v", obs.n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	for tok, n := range seen {
		if n != 1 {
			t.Errorf("%s delivered %d times", tok, n)
		}
	}
	if len(seen) != 40 {
		t.Errorf("%d tokens delivered, want 40", len(seen))
	}
	mu.Unlock()
	if obs.get("retrying") < 1 || obs.get("delivered") != 40 {
		t.Errorf("outcomes %v", obs.n)
	}
	for i, want := range map[int]store.DeliveryStatus{0: store.DeliveryDelivered, 40: store.DeliveryFailed, 41: store.DeliveryFailed} {
		got, err := f.db.GetLogoutDelivery(ctx, ds[i].ID)
		if err != nil || got.Status != want {
			t.Errorf("delivery %d: %+v, %v; want %s", i, got, err, want)
		}
	}
	if got, _ := f.db.GetLogoutDelivery(ctx, ds[40].ID); got.LastStatus != http.StatusBadGateway || got.Attempts < 2 {
		t.Errorf("given-up delivery: %+v", got)
	}
}
