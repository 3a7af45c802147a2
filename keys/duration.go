package keys

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// day is the unit "d" of ParseDuration and FormatDuration: 24 hours, as
// lifetimes are meant ("90d"), whatever the calendar does.
const day = 24 * time.Hour

// maxDays is the largest number of days a time.Duration holds.
const maxDays = int64(1<<63-1) / int64(day)

// ParseDuration reads a duration the way people write lifetimes and
// periods: a Go duration ("720h", "1h30m", "90s"), a number of days
// ("30d"), or days followed by a Go duration ("1d12h"). It is the one
// parser of the CLI's duration flags, the console's forms and the admin
// API's JSON durations. The error names the input and shows examples.
func ParseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	var days time.Duration
	if i := strings.IndexByte(in, 'd'); i > 0 {
		n, err := strconv.ParseInt(in[:i], 10, 64)
		if err != nil || n < 0 || n > maxDays {
			return 0, durationError(s)
		}
		days, in = time.Duration(n)*day, in[i+1:]
		if in == "" {
			return days, nil
		}
		if strings.HasPrefix(in, "-") || strings.HasPrefix(in, "+") {
			return 0, durationError(s)
		}
	}
	d, err := time.ParseDuration(in)
	if err != nil || days > 0 && (d < 0 || days+d < days) {
		return 0, durationError(s)
	}
	return days + d, nil
}

func durationError(s string) error {
	return fmt.Errorf("%q is not a duration: want e.g. 30d, 12h, 1h30m or 90s", s)
}

// FormatDuration writes d in the largest units that hold it exactly, as
// ParseDuration reads it: "30d", "1h", "1d12h", "1h30m", "90s" becomes
// "1m30s"; never Go's "1m0s". A duration with a fraction of a second is
// written as Go writes it ("1.5s", "250ms").
func FormatDuration(d time.Duration) string {
	if d < 0 {
		return "-" + FormatDuration(-d)
	}
	if d == 0 {
		return "0s"
	}
	if d%time.Second != 0 {
		return d.String()
	}
	var b strings.Builder
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{day, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.unit; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10) + u.name)
			d -= n * u.unit
		}
	}
	return b.String()
}
