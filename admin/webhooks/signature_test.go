package webhooks

import (
	"errors"
	"testing"
	"time"
)

// TestSignature pins the wire form of Keyward-Signature and checks what
// Verify refuses.
func TestSignature(t *testing.T) {
	at := time.Unix(1700000000, 0)
	body := []byte(`{"id":"e1"}`)
	sig := Sign("whsec_test", at, body)
	if want := "t=1700000000,v1=6a85cb117c993612a34c72b4cfb5a16baed25a80d26e298ce0e6671320fd07c8"; sig != want {
		t.Fatalf("Sign = %q, want %q", sig, want)
	}
	if err := Verify("whsec_test", sig, body, at.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	// A receiver may list a second signature (during a secret rotation).
	if err := Verify("whsec_test", "v1=00, "+sig, body, at, time.Minute); err != nil {
		t.Errorf("Verify with two signatures: %v", err)
	}
	for name, c := range map[string]struct {
		secret, header string
		body           []byte
		now            time.Time
	}{
		"other secret":  {"whsec_other", sig, body, at},
		"other body":    {"whsec_test", sig, []byte(`{"id":"e2"}`), at},
		"too old":       {"whsec_test", sig, body, at.Add(6 * time.Minute)},
		"from a future": {"whsec_test", sig, body, at.Add(-6 * time.Minute)},
		"no timestamp":  {"whsec_test", sig[len("t=1700000000,"):], body, at},
		"no signature":  {"whsec_test", "t=1700000000", body, at},
		"empty":         {"whsec_test", "", body, at},
	} {
		if err := Verify(c.secret, c.header, c.body, c.now, 5*time.Minute); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: %v, want ErrBadSignature", name, err)
		}
	}
}
