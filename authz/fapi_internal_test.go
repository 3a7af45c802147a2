package authz

import (
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/store"
)

// TestFAPI2CodeLifespan checks that an authorization code issued to a
// FAPI 2.0 client lives at most 60 seconds (FAPI 2.0 §5.3.2.1), whatever
// --auth-code-ttl says, and that other clients keep the configured life.
func TestFAPI2CodeLifespan(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	issue := func(profile string) time.Time {
		r := fosite.NewRequest()
		r.Client = &fositeClient{c: &store.Client{ID: "c", Profile: profile}}
		r.Session = NewSession("alice")
		r.Session.SetExpiresAt(fosite.AuthorizeCode, now.Add(DefaultAuthCodeTTL))
		capCodeLifespan(r, now)
		return r.Session.GetExpiresAt(fosite.AuthorizeCode)
	}
	if got := issue(clients.ProfileFAPI2); !got.Equal(now.Add(60 * time.Second)) {
		t.Errorf("fapi2 code expires at %v, want %v", got, now.Add(60*time.Second))
	}
	if got := issue(""); !got.Equal(now.Add(DefaultAuthCodeTTL)) {
		t.Errorf("ordinary code expires at %v, want %v", got, now.Add(DefaultAuthCodeTTL))
	}
}
