package webhooks

import (
	"errors"
	"testing"
	"time"
)

// A delivery signed outside Go, once, with
//
//	printf '%s' "$ID.$TS.$BODY" | openssl dgst -sha256 -mac HMAC -macopt hexkey:$KEY -binary | base64
//
// where KEY is the hex of the secret's base64 after "whsec_".
const (
	vectorID   = "01936f2e-7b3c-7d4e-9a1f-2b3c4d5e6f70"
	vectorUnix = 1798761600
	vectorBody = `{"id":"01936f2e-7b3c-7d4e-9a1f-2b3c4d5e6f70","type":"client.created","actor":"cli","subject":"c1","data":{"name":"svc"},"created_at":"2027-01-01T00:00:00Z"}`
	// A secret as NewSecret makes it: standard base64, with padding.
	vectorSecret    = "whsec_ug0+Wkz07d6Eb1UumT0FhSfNijci+BG9cXWk35gC2Pw="
	vectorSignature = "v1,FfAgAKDObJqJyl/rDglWm2idaPCRPBEI40tz52tYTko="
	// A secret as Keyward made it before Standard Webhooks: base64url
	// without padding; its key is the decoded part too.
	legacySecret    = "whsec_i0_6mun4aExB3qGbvnpY8tLWwZlM_Ftm7_hCnlWxfp0"
	legacySignature = "v1,CHX4Oas6wslqmT6a1wUI7tHGglddKs6I8hawon/CFVY="
)

// TestSign pins the wire form of webhook-signature to the vectors above.
func TestSign(t *testing.T) {
	at := time.Unix(vectorUnix, 0)
	for _, c := range []struct{ secret, want string }{
		{vectorSecret, vectorSignature},
		{legacySecret, legacySignature},
		{"ug0+Wkz07d6Eb1UumT0FhSfNijci+BG9cXWk35gC2Pw=", vectorSignature}, // the prefix is optional
	} {
		got, err := Sign(c.secret, vectorID, at, []byte(vectorBody))
		if err != nil || got != c.want {
			t.Errorf("Sign(%s) = %q, %v; want %q", c.secret, got, err, c.want)
		}
	}
	for _, secret := range []string{"whsec_", "whsec_not base64!", "whsec_abcde"} {
		if _, err := Sign(secret, vectorID, at, []byte(vectorBody)); !errors.Is(err, ErrBadSecret) {
			t.Errorf("Sign(%q): %v, want ErrBadSecret", secret, err)
		}
	}
}

// TestVerify checks what Verify accepts and what it refuses.
func TestVerify(t *testing.T) {
	at := time.Unix(vectorUnix, 0)
	ts := "1798761600"
	body := []byte(vectorBody)
	for name, sigs := range map[string]string{
		"one":                        vectorSignature,
		"legacy secret":              legacySignature,
		"several, the good one last": "v1,AAAA v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzC " + vectorSignature,
		"extra spaces":               "  " + vectorSignature + "  ",
	} {
		secret := vectorSecret
		if name == "legacy secret" {
			secret = legacySecret
		}
		if err := Verify(secret, vectorID, ts, sigs, body, at.Add(4*time.Minute), 5*time.Minute); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, c := range map[string]struct {
		id, ts, sigs string
		body         string
		now          time.Time
	}{
		"other body":      {vectorID, ts, vectorSignature, vectorBody + " ", at},
		"other id":        {vectorID[1:], ts, vectorSignature, vectorBody, at},
		"other timestamp": {vectorID, "1798761601", vectorSignature, vectorBody, at},
		"too old":         {vectorID, ts, vectorSignature, vectorBody, at.Add(6 * time.Minute)},
		"from the future": {vectorID, ts, vectorSignature, vectorBody, at.Add(-6 * time.Minute)},
		"v1a only":        {vectorID, ts, "v1a" + vectorSignature[2:], vectorBody, at},
		"no version":      {vectorID, ts, vectorSignature[3:], vectorBody, at},
		"hex":             {vectorID, ts, "v1,15f02000a0ce6c9a89ca5feb0e09569b689d68f0913c1108e34b73e76b584e4a", vectorBody, at},
		"no id":           {"", ts, vectorSignature, vectorBody, at},
		"no timestamp":    {vectorID, "", vectorSignature, vectorBody, at},
		"no signature":    {vectorID, ts, "", vectorBody, at},
	} {
		if err := Verify(vectorSecret, c.id, c.ts, c.sigs, []byte(c.body), c.now, 5*time.Minute); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: %v, want ErrBadSignature", name, err)
		}
	}
	if err := Verify("whsec_ug0+Wkz07d6Eb1UumT0FhSfNijci+BG9cXWk35gC2Pw", vectorID, ts, vectorSignature, body, at, time.Minute); !errors.Is(err, ErrBadSecret) {
		t.Errorf("a secret without its padding: %v, want ErrBadSecret", err)
	}
	if err := Verify(legacySecret, vectorID, ts, vectorSignature, body, at, time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Errorf("other secret: %v, want ErrBadSignature", err)
	}
	if err := Verify("whsec_", vectorID, ts, vectorSignature, body, at, time.Minute); !errors.Is(err, ErrBadSecret) {
		t.Errorf("empty secret: %v, want ErrBadSecret", err)
	}
}
