package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/keyward/keyward/store"
)

// EventHeader carries the event type, the body's "type", for receivers
// that route before they parse. It is Keyward's, beside the Standard
// Webhooks headers, as is Keyward-Event-Id (the webhook-id again).
const EventHeader = "Keyward-Event"

// attempt makes one attempt at dl and records it; true when the webhook's
// next delivery may follow (this one is finished: delivered, or out of
// retries).
func (d *Dispatcher) attempt(ctx context.Context, w *store.Webhook, dl *store.Delivery) bool {
	start := d.cfg.Now()
	began := time.Now()
	status, excerpt, err := d.post(ctx, w, dl.Event, start)
	if err != nil && status == 0 && ctx.Err() != nil {
		return false // cut short by a shutdown: not the receiver's failure
	}
	a := &store.Attempt{DeliveryID: dl.ID, AttemptedAt: store.Truncate(start), StatusCode: status,
		Latency: time.Since(began), Response: excerpt}
	r := store.AttemptResult{Status: store.DeliveryDelivered}
	outcome := "delivered"
	if err != nil {
		a.Error = truncate(err.Error(), 500)
		first := dl.FirstAttemptAt
		if first.IsZero() {
			first = start
		}
		if start.Sub(first) >= d.cfg.RetryFor {
			r.Status, outcome = store.DeliveryFailed, "failed"
		} else {
			r.Status, outcome = store.DeliveryPending, "retrying"
			r.NextAttemptAt = start.Add(d.backoff(dl.Attempts + 1))
		}
	}
	if err := d.cfg.Store.RecordAttempt(context.WithoutCancel(ctx), a, r); err != nil {
		d.cfg.Logger.Warn("webhooks: cannot record an attempt", "webhook", w.ID, "delivery", dl.ID, "err", err)
		return false
	}
	if d.cfg.Observer != nil {
		d.cfg.Observer.Delivered(outcome)
	}
	if err == nil {
		return true
	}
	log := d.cfg.Logger.With("webhook", w.ID, "event", dl.EventID, "delivery", dl.ID, "attempt", dl.Attempts+1, "err", err)
	if r.Status == store.DeliveryFailed {
		log.Error("webhook delivery failed; giving up", "retried_for", d.cfg.RetryFor.String())
	} else {
		log.Warn("webhook delivery failed; will retry", "at", r.NextAttemptAt)
	}
	d.disableIfFailing(ctx, w.ID, start, a.Error)
	return r.Status == store.DeliveryFailed
}

// backoff returns the wait before attempt n+1 after n failed ones:
// MinBackoff doubled n-1 times, at most MaxBackoff, and between half of
// that and all of it ("equal jitter"), so that receivers coming back are
// not hit by every sender at once.
func (d *Dispatcher) backoff(n int) time.Duration {
	b := d.cfg.MaxBackoff
	if n <= 30 {
		if v := d.cfg.MinBackoff << (n - 1); v > 0 && v < b {
			b = v
		}
	}
	return b/2 + rand.N(b/2+1)
}

// disableIfFailing disables the webhook when its attempts have all failed
// for DisableAfter, and records webhook.disabled with the change.
func (d *Dispatcher) disableIfFailing(ctx context.Context, id string, now time.Time, lastErr string) {
	if d.cfg.DisableAfter < 0 {
		return
	}
	ctx = store.WithActor(context.WithoutCancel(ctx), "system")
	err := d.cfg.Auditor.Atomic(ctx, func(ctx context.Context) error {
		w, err := d.cfg.Store.GetWebhook(ctx, id)
		if err != nil || !w.Enabled || w.FailingSince.IsZero() || now.Sub(w.FailingSince) < d.cfg.DisableAfter {
			return err
		}
		w.Enabled = false
		if err := d.cfg.Store.UpdateWebhook(ctx, w); err != nil {
			return err
		}
		d.cfg.Logger.Error("webhook disabled: its deliveries have failed too long", "webhook", id,
			"failing_since", w.FailingSince, "last_error", lastErr)
		return d.cfg.Auditor.Record(ctx, "webhook.disabled", id, map[string]any{
			"reason": "failing", "failing_since": w.FailingSince, "last_error": lastErr, "url": w.URL,
		})
	})
	if err != nil {
		d.cfg.Logger.Warn("webhooks: cannot disable a failing webhook", "webhook", id, "err", err)
	}
}

// post sends e to w once, signed (Sign) with w's secret, and with its
// previous secret too while that overlaps; it returns the answer's status
// and the start of its body. An answer other than 2xx is an error.
func (d *Dispatcher) post(ctx context.Context, w *store.Webhook, e *store.AuditEvent, now time.Time) (int, string, error) {
	body, err := json.Marshal(NewEvent(e))
	if err != nil {
		return 0, "", err
	}
	sig, err := d.signatures(w, e.ID, now, body)
	if err != nil {
		return 0, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Keyward-Webhook/1")
	req.Header.Set(IDHeader, e.ID)
	req.Header.Set(TimestampHeader, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(SignatureHeader, sig)
	req.Header.Set(EventHeader, e.Type)
	req.Header.Set("Keyward-Event-Id", e.ID)
	resp, err := d.cfg.Client.Do(req)
	if err != nil {
		return 0, "", unwrapURLError(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, store.MaxResponseExcerpt))
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10) // reuse the connection
	excerpt := strings.ToValidUTF8(string(b), "\uFFFD")
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, excerpt, fmt.Errorf("status %d", resp.StatusCode)
	}
	return resp.StatusCode, excerpt, nil
}

// signatures returns the webhook-signature value: the signature with the
// current secret and, until PreviousSecretUntil, with the previous one.
func (d *Dispatcher) signatures(w *store.Webhook, id string, now time.Time, body []byte) (string, error) {
	secret, err := d.openSecret(w.ID, w.Secret)
	if err != nil {
		return "", err
	}
	sig, err := Sign(secret, id, now, body)
	if err != nil {
		return "", err
	}
	if len(w.PreviousSecret) > 0 && now.Before(w.PreviousSecretUntil) {
		if prev, err := d.openSecret(w.ID, w.PreviousSecret); err == nil {
			if s, err := Sign(prev, id, now, body); err == nil {
				sig += " " + s
			}
		}
	}
	return sig, nil
}

// unwrapURLError drops the method and URL that net/http puts before the
// cause (the URL is in the delivery log already).
func unwrapURLError(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
