package webhooks

import (
	"crypto/rand"
	"encoding/base64"

	"github.com/keyward/keyward/store"
)

// NewSecret returns a fresh signing secret for the webhook id ("whsec_"
// and 256 random bits), to show once, and its sealed form, bound to id,
// for store.Webhook.Secret.
func (d *Dispatcher) NewSecret(id string) (secret string, sealed []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	secret = "whsec_" + base64.RawURLEncoding.EncodeToString(b)
	return secret, d.secret.Seal([]byte(secret), []byte(id))
}

// openSecret returns the signing secret of h.
func (d *Dispatcher) openSecret(h *store.Webhook) (string, error) {
	b, err := d.secret.Open(h.Secret, []byte(h.ID))
	return string(b), err
}
