package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/sqlite"
)

// TestWatcherSeesOtherConnections: a notification through another handle
// on the same file (a management command in another process) reaches this
// handle's subscribers; other commits (audit events, tokens) dispatch
// nothing, and this handle's own notifications arrive once.
func TestWatcherSeesOtherConnections(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k.db")
	server := openPath(t, path)
	got := make(chan string, 10)
	server.Subscribe("ch", func(p string) { got <- p })
	cli := openPath(t, path)
	expect := func(want string) {
		t.Helper()
		select {
		case p := <-got:
			if p != want {
				t.Fatalf("payload %q, want %q", p, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%q not seen", want)
		}
	}
	quiet := func(what string) {
		t.Helper()
		select {
		case p := <-got:
			t.Fatalf("%s dispatched %q", what, p)
		case <-time.After(3 * sqlite.PollInterval):
		}
	}
	for i := range 2 {
		if err := cli.Notify(ctx, "ch", "client-"+string(rune('0'+i))); err != nil {
			t.Fatal(err)
		}
		expect("client-" + string(rune('0'+i)))
	}
	if err := cli.AppendAudit(ctx, &store.AuditEvent{ID: "e1", Type: "x", Actor: "cli"}); err != nil {
		t.Fatal(err)
	}
	quiet("a commit without a notification")
	if err := server.Notify(ctx, "ch", "own"); err != nil {
		t.Fatal(err)
	}
	expect("own")
	quiet("the watcher, for this handle's own notification")
	if err := cli.Notify(ctx, "other-channel", "x"); err != nil {
		t.Fatal(err)
	}
	quiet("a notification on another channel")
}
