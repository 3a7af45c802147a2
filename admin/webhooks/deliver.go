package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/keyward/keyward/store"
)

func (d *Dispatcher) handle(ctx context.Context, j deliveryJob) {
	hooks, err := d.enabled(ctx)
	if err != nil {
		d.cfg.Logger.Error("webhooks: cannot load", "err", err)
		return
	}
	for _, h := range hooks {
		switch {
		case j.hookID == "" && selects(h.EventTypes, j.event.Type):
			d.attempt(ctx, j.event, h, 0)
		case j.hookID == h.ID:
			d.attempt(ctx, j.event, h, j.attempt)
		}
	}
}

// attempt makes one delivery and schedules the retry of a failure.
func (d *Dispatcher) attempt(ctx context.Context, e *store.AuditEvent, h *store.Webhook, n int) {
	err := d.deliver(ctx, e, h)
	if err == nil || ctx.Err() != nil {
		return
	}
	log := d.cfg.Logger.With("webhook", h.ID, "event", e.ID, "attempt", n+1, "err", err)
	if n >= len(d.cfg.Backoff) {
		log.Error("webhook delivery failed; giving up")
		return
	}
	log.Warn("webhook delivery failed; will retry", "in", d.cfg.Backoff[n])
	time.AfterFunc(d.cfg.Backoff[n], func() { d.enqueue(deliveryJob{event: e, hookID: h.ID, attempt: n + 1}) })
}

// EventHeader carries the event type, the body's "type", for receivers
// that route before they parse. It is Keyward's, beside the Standard
// Webhooks headers, as is Keyward-Event-Id (the webhook-id again).
const EventHeader = "Keyward-Event"

// deliver POSTs e to h once, signed (Sign) with h's secret and the event
// id as webhook-id; an answer other than 2xx is an error.
func (d *Dispatcher) deliver(ctx context.Context, e *store.AuditEvent, h *store.Webhook) error {
	secret, err := d.openSecret(h)
	if err != nil {
		return err
	}
	body, err := json.Marshal(NewEvent(e))
	if err != nil {
		return err
	}
	now := d.cfg.Now()
	sig, err := Sign(secret, e.ID, now, body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Keyward-Webhook/1")
	req.Header.Set(IDHeader, e.ID)
	req.Header.Set(TimestampHeader, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(SignatureHeader, sig)
	req.Header.Set(EventHeader, e.Type)
	req.Header.Set("Keyward-Event-Id", e.ID)
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
