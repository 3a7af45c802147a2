package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The headers of a delivery that Standard Webhooks 1.0 defines
// ("Webhook headers"); Verify takes their values.
const (
	// IDHeader carries the event id: the same in every attempt to deliver
	// one event, so that a receiver can drop a repeat.
	IDHeader = "webhook-id"
	// TimestampHeader carries the Unix time, in seconds, of the attempt.
	TimestampHeader = "webhook-timestamp"
	// SignatureHeader carries the signatures, space-separated, each
	// "v1,<base64 HMAC-SHA256>".
	SignatureHeader = "webhook-signature"
)

// signatureVersion names the symmetric scheme, HMAC-SHA256.
const signatureVersion = "v1"

// Sign returns the webhook-signature value of a delivery of body with
// webhook-id id at time t, as Standard Webhooks 1.0 ("Signature scheme")
// makes it: "v1,<base64 HMAC-SHA256(key, "<id>.<unix seconds>.<body>")>",
// where key is secret's base64 after "whsec_". A secret that is not
// base64 returns ErrBadSecret.
func Sign(secret, id string, t time.Time, body []byte) (string, error) {
	key, err := signingKey(secret)
	if err != nil {
		return "", err
	}
	sig := mac(key, id, strconv.FormatInt(t.Unix(), 10), body)
	return signatureVersion + "," + base64.StdEncoding.EncodeToString(sig), nil
}

func mac(key []byte, id, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// ErrBadSignature is returned by Verify for a delivery it refuses.
var ErrBadSignature = errors.New("webhook signature does not verify")

// Verify checks a delivery of body as a receiver should, given the values
// of its webhook-id, webhook-timestamp and webhook-signature headers
// (Standard Webhooks 1.0, "Verifying signatures"): the timestamp is at
// most tolerance from now (to refuse replays), and one of the v1
// signatures is the HMAC-SHA256 made with secret, compared in constant
// time; signatures of other versions (v1a) are skipped. It returns
// ErrBadSignature, or ErrBadSecret for a secret that is not base64.
func Verify(secret, id, timestamp, signatures string, body []byte, now time.Time, tolerance time.Duration) error {
	key, err := signingKey(secret)
	if err != nil {
		return err
	}
	if id == "" || signatures == "" {
		return fmt.Errorf("%w: a header is missing", ErrBadSignature)
	}
	unix, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: bad timestamp", ErrBadSignature)
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: timestamp outside the tolerance", ErrBadSignature)
	}
	want := mac(key, id, timestamp, body)
	for _, s := range strings.Fields(signatures) {
		version, sig, _ := strings.Cut(s, ",")
		if version != signatureVersion {
			continue
		}
		if b, err := base64.StdEncoding.DecodeString(sig); err == nil && hmac.Equal(b, want) {
			return nil
		}
	}
	return ErrBadSignature
}
