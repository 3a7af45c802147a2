package keys

import (
	"encoding/json"
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
