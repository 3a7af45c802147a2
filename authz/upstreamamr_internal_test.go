package authz

import (
	"slices"
	"testing"

	"github.com/keyward/keyward/store"
)

// TestUpstreamAMRMapping: registered values pass once, in order; others
// go; the marker never reaches a token, and "mfa" from the upstream makes
// the mfa class.
func TestUpstreamAMRMapping(t *testing.T) {
	for _, tc := range []struct {
		in, want []string
		acr      string
	}{
		{nil, []string{}, ACRPassword},
		{[]string{"fed", "urn:x"}, []string{}, ACRPassword},
		{[]string{"pwd", "otp", "mfa", "otp"}, []string{"pwd", "otp", "mfa"}, ACRMFA},
		{[]string{"hwk", "user"}, []string{"hwk", "user"}, ACRPassword},
	} {
		stored := upstreamAMR(tc.in)
		if stored[len(stored)-1] != amrUpstream {
			t.Errorf("%q: stored %q lacks the marker", tc.in, stored)
		}
		got := sessionAMR(&store.BrowserSession{AMR: stored})
		if !slices.Equal(got, tc.want) || acrOf(got) != tc.acr {
			t.Errorf("%q: amr %q acr %s, want %q %s", tc.in, got, acrOf(got), tc.want, tc.acr)
		}
	}
	// A session of before the methods were recorded: a password.
	if got := sessionAMR(&store.BrowserSession{}); !slices.Equal(got, []string{"pwd"}) {
		t.Errorf("legacy session: %q", got)
	}
}
