package webhooks

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
)

// secretPrefix marks a symmetric signing secret (Standard Webhooks 1.0,
// "Signature scheme": "whsec_" and the key in base64).
const secretPrefix = "whsec_"

// NewSecret returns a fresh signing secret for the webhook id ("whsec_"
// and 256 random bits in standard base64), to show once, and its sealed
// form, bound to id, for store.Webhook.Secret.
func (d *Dispatcher) NewSecret(id string) (secret string, sealed []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	secret = secretPrefix + base64.StdEncoding.EncodeToString(b)
	return secret, d.secret.Seal([]byte(secret), []byte(id))
}

// openSecret returns a signing secret of the webhook id from its sealed
// form.
func (d *Dispatcher) openSecret(id string, sealed []byte) (string, error) {
	b, err := d.secret.Open(sealed, []byte(id))
	return string(b), err
}

// ErrBadSecret is returned by Sign and Verify for a secret that is not
// "whsec_" (optional) and base64.
var ErrBadSecret = errors.New("webhook secret is not whsec_<base64>")

// signingKey returns the HMAC key of secret: the base64 after "whsec_".
// Secrets made before Keyward followed Standard Webhooks are base64url
// without padding; they still decode, so those webhooks keep their
// secrets, though verifiers that decode standard base64 only (the
// official Standard Webhooks libraries) need them rotated.
func signingKey(secret string) ([]byte, error) {
	s := strings.TrimPrefix(secret, secretPrefix)
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		key, err = base64.RawURLEncoding.DecodeString(s)
	}
	if err != nil || len(key) == 0 {
		return nil, ErrBadSecret
	}
	return key, nil
}
