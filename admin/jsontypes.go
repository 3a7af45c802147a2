package admin

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/keyward/keyward/keys"
)

// JSON field types of the API's request bodies.

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// duration is a JSON duration string as keys.ParseDuration reads it: a
// Go duration ("720h", "90m"), days ("30d") or both ("1d12h").
type duration time.Duration

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &fieldError{"a duration must be a string such as \"720h\" or \"30d\""}
	}
	v, err := keys.ParseDuration(s)
	if err != nil {
		return &fieldError{fmt.Sprintf("duration %q: want a Go duration such as \"720h\" or days such as \"30d\"", s)}
	}
	*d = duration(v)
	return nil
}

// rateLimit is a JSON "N/PERIOD" string ("100/1m"), "" for unlimited.
type rateLimit keys.RateLimit

func (r *rateLimit) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &fieldError{"rate_limit must be a string N/PERIOD such as \"100/1m\""}
	}
	v, err := keys.ParseRateLimit(s)
	if err != nil {
		return &fieldError{err.Error()}
	}
	*r = rateLimit(v)
	return nil
}
