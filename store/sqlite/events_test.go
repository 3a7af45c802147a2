package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
)

// TestWatcherSeesOtherConnections: a commit through another handle on the
// same file (a management command in another process) reaches the
// subscribers as store.Resync.
func TestWatcherSeesOtherConnections(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	server := openPath(t, path)
	got := make(chan string, 10)
	server.Subscribe("ch", func(p string) { got <- p })
	time.Sleep(50 * time.Millisecond)
	cli := openPath(t, path)
	for i := range 2 {
		if err := cli.AppendAudit(context.Background(), &store.AuditEvent{ID: "e" + string(rune('0'+i)), Type: "x", Actor: "cli"}); err != nil {
			t.Fatal(err)
		}
		select {
		case p := <-got:
			if p != store.Resync {
				t.Fatalf("payload %q", p)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("commit %d not seen", i)
		}
	}
}
