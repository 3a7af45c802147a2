package webhooks

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/admin/webhooks/webhookstest"
)

// TestOfficialVerifier has the official Standard Webhooks verifier, run by
// Node.js (webhookstest), check real deliveries: a Dispatcher on a real
// store POSTs events to a receiver on loopback, and what arrived verifies
// with the webhook's secret as the API shows it, and during a rotation's
// overlap with both the new and the previous secret; with its body
// changed, or with another secret, it does not.
func TestOfficialVerifier(t *testing.T) {
	t.Parallel()
	official := webhookstest.Official(t)
	f := newFixture(t, "client.*")
	d := f.newDispatcher(t, Config{})
	run(t, d)
	f.record(t, "client.created", "c1")
	got := f.recv.waitOK(t, 1)[0]

	// Rotated with an overlap: the next delivery carries two signatures.
	rotated, sealed := d.NewSecret(f.hook.ID)
	f.hook.PreviousSecret, f.hook.PreviousSecretUntil, f.hook.Secret = f.hook.Secret, time.Now().Add(time.Hour), sealed
	if err := f.db.UpdateWebhook(context.Background(), f.hook); err != nil {
		t.Fatal(err)
	}
	f.record(t, "client.updated", "c1")
	both := f.recv.waitOK(t, 2)[1]

	tampered := bytes.Replace(got.Body, []byte(`"c1"`), []byte(`"c2"`), 1)
	if bytes.Equal(tampered, got.Body) {
		t.Fatalf("nothing to tamper with in %s", got.Body)
	}
	other, _ := d.NewSecret("hook-2")
	cases := []struct {
		name string
		in   webhookstest.Delivery
		ok   bool
	}{
		{"the delivery", webhookstest.NewDelivery(f.secret, got.Header, got.Body), true},
		{"a tampered body", webhookstest.NewDelivery(f.secret, got.Header, tampered), false},
		{"another secret", webhookstest.NewDelivery(other, got.Header, got.Body), false},
		{"the overlap, new secret", webhookstest.NewDelivery(rotated, both.Header, both.Body), true},
		{"the overlap, previous secret", webhookstest.NewDelivery(f.secret, both.Header, both.Body), true},
		{"the first delivery, new secret", webhookstest.NewDelivery(rotated, got.Header, got.Body), false},
	}
	in := make([]webhookstest.Delivery, len(cases))
	for i, c := range cases {
		in[i] = c.in
	}
	for i, r := range official.Verify(t, in) {
		if c := cases[i]; r.OK != c.ok || !c.ok && !strings.HasPrefix(r.Error, "WebhookVerificationError") {
			t.Errorf("%s: %+v, want ok %v (else a WebhookVerificationError)\nheaders %v\nbody %s", c.name, r, c.ok, c.in.Headers, c.in.Body)
		}
	}
}
