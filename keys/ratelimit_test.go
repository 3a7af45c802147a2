package keys

import (
	"context"
	"testing"
	"time"
)

func TestRateLimit(t *testing.T) {
	f := newFixture(t, nil)
	_, raw := f.create(t, CreateParams{RateLimit: RateLimit{Limit: 3, Period: time.Minute}})
	start := f.clock.Now()
	for i := range 3 {
		r := f.verify(t, raw, "")
		wantCode(t, r, CodeValid)
		if r.RateLimit == nil || r.RateLimit.Limit != 3 || r.RateLimit.Remaining != 2-i || !r.RateLimit.Reset.Equal(start.Truncate(time.Minute).Add(time.Minute)) {
			t.Fatalf("call %d: %+v", i, r.RateLimit)
		}
		f.clock.Add(time.Second)
	}
	// Inspect does not count, but tells the window is used up.
	ins, _ := f.svc.Inspect(context.Background(), raw)
	wantCode(t, ins, CodeRateLimited)
	r := f.verify(t, raw, "")
	wantCode(t, r, CodeRateLimited)
	if r.RateLimit.Remaining != 0 {
		t.Fatalf("limited: %+v", r.RateLimit)
	}
	f.clock.Add(time.Minute)
	r = f.verify(t, raw, "")
	wantCode(t, r, CodeValid)
	if r.RateLimit.Remaining != 2 {
		t.Fatalf("after reset: %+v", r.RateLimit)
	}
	ins, _ = f.svc.Inspect(context.Background(), raw)
	if ins.RateLimit.Remaining != 2 {
		t.Fatalf("Inspect counted: %+v", ins.RateLimit)
	}
	// A scope failure still counts: the call was made.
	wantCode(t, f.verify(t, raw, "admin"), CodeInsufficientScope)
	if r := f.verify(t, raw, ""); r.RateLimit.Remaining != 0 {
		t.Fatalf("scope failure not counted: %+v", r.RateLimit)
	}
}

func TestParseRateLimit(t *testing.T) {
	tests := []struct {
		in      string
		want    RateLimit
		wantErr bool
	}{
		{"", RateLimit{}, false},
		{"0", RateLimit{}, false},
		{"100/m", RateLimit{100, time.Minute}, false},
		{"100/minute", RateLimit{100, time.Minute}, false},
		{"10/30s", RateLimit{10, 30 * time.Second}, false},
		{"5000/day", RateLimit{5000, 24 * time.Hour}, false},
		{"1/1h0m0s", RateLimit{1, time.Hour}, false},
		{"100", RateLimit{}, true},
		{"x/m", RateLimit{}, true},
		{"-1/m", RateLimit{}, true},
		{"10/fortnight", RateLimit{}, true},
		{"10/100ms", RateLimit{}, true},
	}
	for _, tc := range tests {
		got, err := ParseRateLimit(tc.in)
		if (err != nil) != tc.wantErr || (!tc.wantErr && got != tc.want) {
			t.Errorf("ParseRateLimit(%q) = %+v, %v", tc.in, got, err)
		}
		if !tc.wantErr && got.String() != "" {
			if again, _ := ParseRateLimit(got.String()); again != got {
				t.Errorf("String round trip of %+v: %+v", got, again)
			}
		}
	}
}

// counterFunc is a RateCounter from a function.
type counterFunc func([]Hits) ([]int64, error)

func (f counterFunc) AddAPIKeyHits(_ context.Context, h []Hits) ([]int64, error) { return f(h) }
func (f counterFunc) PruneAPIKeyHits(context.Context, time.Time) error           { return nil }

// TestRateSyncAcrossRuleChange: a window that starts over (here: the rule
// changed, same start) while its counts are being shared keeps only what
// was counted since; nothing negative is ever sent.
func TestRateSyncAcrossRuleChange(t *testing.T) {
	var l limiter
	now := time.Date(2030, 1, 2, 3, 0, 0, 0, time.UTC)
	oldRule, newRule := RateLimit{Limit: 100, Period: time.Hour}, RateLimit{Limit: 50, Period: time.Hour}
	for range 5 {
		l.take("k", oldRule, now, true)
	}
	var sent [][]Hits
	err := l.sync(context.Background(), counterFunc(func(h []Hits) ([]int64, error) {
		sent = append(sent, h)
		l.take("k", newRule, now, true) // the rule changes while the sync is in flight
		return []int64{5}, nil
	}), now)
	if err != nil {
		t.Fatal(err)
	}
	err = l.sync(context.Background(), counterFunc(func(h []Hits) ([]int64, error) {
		sent = append(sent, h)
		return []int64{1}, nil
	}), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(sent) != 2 || sent[0][0].Count != 5 || sent[1][0].Count != 1 {
		t.Fatalf("sent %+v; want 5, then the 1 counted under the new rule", sent)
	}
	st, _ := l.take("k", newRule, now, false)
	if st.Remaining != 49 {
		t.Fatalf("remaining %d under the new rule, want 49", st.Remaining)
	}
}
