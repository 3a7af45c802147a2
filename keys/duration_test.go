package keys

import (
	"testing"
	"time"
)

// TestParseDuration: days, Go durations and both together; the rest is
// refused with a message naming the input.
func TestParseDuration(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{
		"30d": 30 * day, "1d12h": 36 * time.Hour, "720h": 720 * time.Hour, "1m": time.Minute,
		"90s": 90 * time.Second, "0": 0, "0s": 0, "0d": 0, "250ms": 250 * time.Millisecond, " 2d ": 2 * day,
	} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "x", "30days", "-1d", "1d-1h", "1.5d", "99999999d", "1dd", "30", "1d-1h"} {
		if got, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, got)
		}
	}
}

// TestFormatDuration: the largest exact units, read back by ParseDuration.
func TestFormatDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		0: "0s", time.Minute: "1m", time.Hour: "1h", 30 * day: "30d", 36 * time.Hour: "1d12h",
		90 * time.Second: "1m30s", 1500 * time.Millisecond: "1.5s", -time.Hour: "-1h",
	} {
		got := FormatDuration(d)
		if got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
		if back, err := ParseDuration(got); d >= 0 && (err != nil || back != d) {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", got, back, err, d)
		}
	}
}
