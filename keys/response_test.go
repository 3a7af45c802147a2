package keys

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestResultJSON(t *testing.T) {
	exp := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	reset := time.Date(2030, 1, 1, 0, 1, 0, 0, time.UTC)
	k := &APIKey{ID: "id1", Scopes: []string{"a", "b"}, ExpiresAt: exp}
	tests := []struct {
		name string
		r    Result
		want string
	}{
		{"not found", Result{Code: CodeNotFound}, `{"valid":false,"code":"NOT_FOUND"}`},
		{"valid, unlimited, no expiry", Result{Valid: true, Code: CodeValid, Key: &APIKey{ID: "id2"}},
			`{"valid":true,"code":"VALID","key_id":"id2","scope":"","expires_at":null,"rate_limit":null}`},
		{"rate limited", Result{Code: CodeRateLimited, Key: k, RateLimit: &RateLimitState{Limit: 5, Remaining: 0, Reset: reset}},
			`{"valid":false,"code":"RATE_LIMITED","key_id":"id1","scope":"a b","expires_at":"2031-01-01T00:00:00Z","rate_limit":{"limit":5,"remaining":0,"reset":"2030-01-01T00:01:00Z"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.r)
			if err != nil || string(b) != tc.want {
				t.Fatalf("got %s, %v\nwant %s", b, err, tc.want)
			}
		})
	}
}

// reflectedResult is how MarshalJSON used to encode a Result, through
// encoding/json's reflection: the reference AppendJSON must match.
func reflectedResult(r Result) ([]byte, error) {
	if r.Key == nil {
		return json.Marshal(struct {
			Valid bool `json:"valid"`
			Code  Code `json:"code"`
		}{r.Valid, r.Code})
	}
	type rateLimit struct {
		Limit     int       `json:"limit"`
		Remaining int       `json:"remaining"`
		Reset     time.Time `json:"reset"`
	}
	out := struct {
		Valid     bool       `json:"valid"`
		Code      Code       `json:"code"`
		KeyID     string     `json:"key_id"`
		Scope     string     `json:"scope"`
		ExpiresAt *time.Time `json:"expires_at"`
		RateLimit *rateLimit `json:"rate_limit"`
	}{Valid: r.Valid, Code: r.Code, KeyID: r.Key.ID, Scope: strings.Join(r.Key.Scopes, " ")}
	if !r.Key.ExpiresAt.IsZero() {
		t := r.Key.ExpiresAt.UTC()
		out.ExpiresAt = &t
	}
	if r.RateLimit != nil {
		out.RateLimit = &rateLimit{r.RateLimit.Limit, r.RateLimit.Remaining, r.RateLimit.Reset.UTC()}
	}
	return json.Marshal(out)
}

// TestResultJSONMatchesReflection: the hand-written encoder writes the
// bytes encoding/json wrote, for every kind of string and time.
func TestResultJSONMatchesReflection(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	strs := []string{"", "id1", "a b", "<script>", "1<2", "2>1", "x&y", `q"uote`, `back\slash`, "tab\there", "ünïcödé",
		"\u2028", "bad\xffutf8", "\x7f", "emoji 🔑"}
	times := []time.Time{{}, time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2030, 6, 1, 12, 3, 4, 567000, berlin),
		time.Date(2030, 6, 1, 12, 3, 4, 1, time.UTC), time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)}
	codes := []Code{CodeValid, CodeNotFound, CodeRateLimited, Code(`we"ird`)}
	n := 0
	for _, code := range codes {
		for i, id := range strs {
			for j, exp := range times {
				scopes := [][]string{nil, {strs[(i+j)%len(strs)]}, {"read", strs[(i+1)%len(strs)], "write"}}
				for _, sc := range scopes {
					for _, rl := range []*RateLimitState{nil, {Limit: 5, Remaining: -1, Reset: times[(i+j)%len(times)]}} {
						for _, r := range []Result{{Code: code}, {Valid: i%2 == 0, Code: code,
							Key: &APIKey{ID: id, Scopes: sc, ExpiresAt: exp}, RateLimit: rl}} {
							want, wantErr := reflectedResult(r)
							got, err := r.AppendJSON([]byte("prefix"))
							if (err != nil) != (wantErr != nil) || (err == nil && string(got) != "prefix"+string(want)) {
								t.Fatalf("%+v: got %s, %v; want %s, %v", r, got, err, want, wantErr)
							}
							n++
						}
					}
				}
			}
		}
	}
	if n < 1000 {
		t.Fatalf("only %d cases", n)
	}
}
