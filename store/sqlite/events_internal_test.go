package sqlite

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestNotifyPrunes: notifications older than eventsKept leave the events
// table, but Notify prunes once an eventsPruned at most, so an old row
// can stay a little longer; the newer ones are never pruned.
func TestNotifyPrunes(t *testing.T) {
	ctx := context.Background()
	d := openMigrated(t)
	t0 := time.Unix(1_800_000_000, 0)
	at := t0
	d.Now = func() time.Time { return at }
	for _, step := range []struct {
		after time.Duration // since t0
		want  []int64       // the rows left, by when they were written (seconds after t0)
	}{
		{0, []int64{0}},
		{5 * time.Second, []int64{0, 5}},
		{61 * time.Second, []int64{5, 61}},      // pruned: the row of t0 is past eventsKept
		{67 * time.Second, []int64{5, 61, 67}},  // 6 s since the last pruning: the row of 5 s stays
		{72 * time.Second, []int64{61, 67, 72}}, // 11 s since: pruned
		{73 * time.Second, []int64{61, 67, 72, 73}},
	} {
		at = t0.Add(step.after)
		if err := d.Notify(ctx, "ch", "p"); err != nil {
			t.Fatal(err)
		}
		rows, err := d.db.QueryContext(ctx, `SELECT created_at FROM events ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for rows.Next() {
			var us int64
			if err := rows.Scan(&us); err != nil {
				t.Fatal(err)
			}
			got = append(got, (us-micros(t0))/1e6)
		}
		rows.Close()
		if !slices.Equal(got, step.want) {
			t.Fatalf("after a notification at %v: rows of %v s, want %v", step.after, got, step.want)
		}
	}
}
