package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
)

// TestSubscribeIsLive: once Subscribe returns, a notification is delivered
// (the LISTEN is in place), and a subscriber callback may itself subscribe
// without stalling the listener.
func TestSubscribeIsLive(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	got := make(chan string, 16)
	nested := make(chan struct{})
	db.Subscribe("first", func(p string) {
		if p == "subscribe" {
			db.Subscribe("second", func(p string) { got <- "second:" + p })
			close(nested)
			return
		}
		if p != store.Resync {
			got <- "first:" + p
		}
	})
	if err := db.Notify(ctx, "first", "hello"); err != nil {
		t.Fatal(err)
	}
	expect := func(want string) {
		t.Helper()
		for {
			select {
			case p := <-got:
				if p == "second:"+store.Resync {
					continue
				}
				if p != want {
					t.Fatalf("got %q, want %q", p, want)
				}
				return
			case <-time.After(10 * time.Second):
				t.Fatalf("%q not delivered", want)
			}
		}
	}
	expect("first:hello")
	if err := db.Notify(ctx, "first", "subscribe"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-nested:
	case <-time.After(10 * time.Second):
		t.Fatal("a Subscribe inside a callback did not return")
	}
	// The listener goes on delivering, the new channel included.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := db.Notify(ctx, "second", "ping"); err != nil {
			t.Fatal(err)
		}
		select {
		case p := <-got:
			if p == "second:ping" {
				return
			}
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the channel subscribed inside a callback never delivered")
		}
	}
}
