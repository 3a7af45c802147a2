package console

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestAge(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second: "0 s", 0: "0 s", 40 * time.Second: "40 s", 119 * time.Second: "119 s", 12 * time.Minute: "12 min",
		5*time.Hour + 59*time.Minute: "5 h", 47 * time.Hour: "47 h", 3*24*time.Hour + time.Hour: "3 d",
	} {
		if got := age(d); got != want {
			t.Errorf("age(%s) = %q, want %q", d, got, want)
		}
	}
}

// TestConsoleSigningSchedule: with scheduled rotation the signing-keys page
// shows when each algorithm's active key is next replaced, when each next
// key becomes active and when a retiring key leaves the JWKS, and each
// key's age.
func TestConsoleSigningSchedule(t *testing.T) {
	env := newConsoleEnvOpts(t, nil, 30*24*time.Hour)
	b := env.setup("root", "correct horse battery")
	p := b.get("/console/signing-keys")
	p.want(http.StatusOK, "/console/signing-keys")
	in30d := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in (29|30) d\)$`)
	for _, alg := range []string{"ES256", "RS256", "EdDSA"} {
		if got := p.byID("rotation-" + alg); !in30d.MatchString(got) {
			t.Errorf("next rotation of %s: %q, want a time in 30 days", alg, got)
		}
	}
	if !strings.Contains(p.body, "Scheduled rotation every 30d") {
		t.Errorf("the period is not shown:\n%s", p.body)
	}
	for _, want := range []string{"becomes active 20", "replaced by the next key 20"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if !regexp.MustCompile(`<td data-label="Age" class="age">\d+ s</td>`).MatchString(p.body) {
		t.Errorf("no key is seconds old:\n%s", p.body)
	}
	// A forced rotation: the old key is retiring and leaves the JWKS in
	// a day (the longest token lifetime).
	p = b.submit(p, "/console/signing-keys/rotate", url.Values{"alg": {"ES256"}, "force": {"on"}})
	p.want(http.StatusOK, "/console/signing-keys")
	if !regexp.MustCompile(`leaves the JWKS \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in (23|24) h\)`).MatchString(p.body) {
		t.Errorf("the retiring key's removal is not shown:\n%s", p.body)
	}
}
