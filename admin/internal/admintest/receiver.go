package admintest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// HookReceiver is a webhook endpoint on loopback that refuses its first
// delivery (503, to exercise the retry) and records the rest.
type HookReceiver struct {
	mu       sync.Mutex
	attempts int
	got      []Delivery
	// Arrived gets a value for each recorded delivery.
	Arrived chan struct{}
}

// Delivery is one recorded delivery.
type Delivery struct {
	Header http.Header
	Body   []byte
}

// NewHookReceiver starts a receiver, closed when the test ends, and
// returns it with the URL to register.
func NewHookReceiver(t testing.TB) (*HookReceiver, string) {
	h := &HookReceiver{Arrived: make(chan struct{}, 100)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.attempts++
		if h.attempts == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		h.got = append(h.got, Delivery{r.Header.Clone(), b})
		h.Arrived <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	return h, srv.URL + "/hook"
}

// Wait returns the next delivery; none within 10s fails the test.
func (h *HookReceiver) Wait(t testing.TB) Delivery {
	t.Helper()
	select {
	case <-h.Arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook delivery")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.got[len(h.got)-1]
}

// Attempts returns how many deliveries arrived, the refused one included.
func (h *HookReceiver) Attempts() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.attempts
}

// Got returns the recorded deliveries.
func (h *HookReceiver) Got() []Delivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Delivery(nil), h.got...)
}
