package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyward/keyward/store"
)

// Webhook deliveries (see the webhooks resource): each audit event this
// instance records is POSTed as JSON to every enabled webhook whose
// event_types select it, signed with the webhook's secret:
//
//	Keyward-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
// Delivery is asynchronous and at least once: a bounded queue (an event
// that finds it full is dropped and logged, never blocking the request
// that caused it), and a failed attempt (no 2xx within 10s) is retried
// after 1s, 10s and 1m. Events recorded by the CLI or another instance are
// delivered by whoever recorded them (the CLI: never).
const (
	// SignatureHeader carries a delivery's signature.
	SignatureHeader = "Keyward-Signature"
	webhooksChannel = "keyward_webhooks"
	webhookQueueLen = 1024
	webhookWorkers  = 2
	webhookTimeout  = 10 * time.Second
	// webhookCacheTTL bounds how long another instance's change goes unseen
	// when a notification is lost.
	webhookCacheTTL = 30 * time.Second
)

// deliveryJob is an event to fan out (hookID "") or one delivery of it.
type deliveryJob struct {
	event   *store.AuditEvent
	hookID  string
	attempt int
}

// dispatcher delivers audit events to webhooks.
type dispatcher struct {
	s      *Server
	queue  chan deliveryJob
	client *http.Client
	// backoff is the wait before each retry; its length is the number of
	// retries.
	backoff []time.Duration

	mu       sync.Mutex
	hooks    []*store.Webhook // the enabled webhooks
	loadedAt time.Time        // zero: reload
	stopped  atomic.Bool
}

func newDispatcher(s *Server) *dispatcher {
	return &dispatcher{
		s:     s,
		queue: make(chan deliveryJob, webhookQueueLen),
		client: &http.Client{Timeout: webhookTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		backoff: []time.Duration{time.Second, 10 * time.Second, time.Minute},
	}
}

// OnAuditEvent queues e for the webhooks; wire it to store.Auditor.OnEvent.
// It never blocks.
func (s *Server) OnAuditEvent(e *store.AuditEvent) {
	c := *e
	s.api.hooks.enqueue(deliveryJob{event: &c})
}

func (d *dispatcher) enqueue(j deliveryJob) {
	if d.stopped.Load() {
		return
	}
	select {
	case d.queue <- j:
	default:
		d.s.cfg.Logger.Warn("webhook queue full; event not delivered", "event", j.event.ID, "type", j.event.Type, "webhook", j.hookID)
	}
}

// Run delivers webhooks and prunes expired idempotency records until ctx
// ends. Events queued before Run are delivered once it starts.
func (s *Server) Run(ctx context.Context) {
	d := s.api.hooks
	if s.cfg.Events != nil {
		cancel := s.cfg.Events.Subscribe(webhooksChannel, func(string) { d.invalidate() })
		defer cancel()
	}
	var wg sync.WaitGroup
	for range webhookWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.work(ctx)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.pruneIdempotency(ctx)
	}()
	wg.Wait()
	d.stopped.Store(true)
}

func (d *dispatcher) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-d.queue:
			d.handle(ctx, j)
		}
	}
}

func (d *dispatcher) handle(ctx context.Context, j deliveryJob) {
	hooks, err := d.enabled(ctx)
	if err != nil {
		d.s.cfg.Logger.Error("webhooks: cannot load", "err", err)
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
func (d *dispatcher) attempt(ctx context.Context, e *store.AuditEvent, h *store.Webhook, n int) {
	err := d.deliver(ctx, e, h)
	if err == nil || ctx.Err() != nil {
		return
	}
	log := d.s.cfg.Logger.With("webhook", h.ID, "event", e.ID, "attempt", n+1, "err", err)
	if n >= len(d.backoff) {
		log.Error("webhook delivery failed; giving up")
		return
	}
	log.Warn("webhook delivery failed; will retry", "in", d.backoff[n])
	time.AfterFunc(d.backoff[n], func() { d.enqueue(deliveryJob{event: e, hookID: h.ID, attempt: n + 1}) })
}

func (d *dispatcher) deliver(ctx context.Context, e *store.AuditEvent, h *store.Webhook) error {
	secret, err := d.s.api.webhookSeal.Open(h.Secret, []byte(h.ID))
	if err != nil {
		return err
	}
	body, err := json.Marshal(newAuditEventView(e))
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
	req.Header.Set("Keyward-Event", e.Type)
	req.Header.Set("Keyward-Event-Id", e.ID)
	req.Header.Set(SignatureHeader, SignWebhook(string(secret), d.s.cfg.Now(), body))
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

// selects reports whether a webhook's event_types select eventType.
func selects(types []string, eventType string) bool {
	if len(types) == 0 {
		return true
	}
	for _, t := range types {
		if t == "*" || t == eventType {
			return true
		}
		if p, ok := strings.CutSuffix(t, ".*"); ok && strings.HasPrefix(eventType, p+".") {
			return true
		}
	}
	return false
}

// enabled returns the enabled webhooks, from a cache.
func (d *dispatcher) enabled(ctx context.Context) ([]*store.Webhook, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.loadedAt.IsZero() && time.Since(d.loadedAt) < webhookCacheTTL {
		return d.hooks, nil
	}
	var hooks []*store.Webhook
	p := store.Page{Limit: store.MaxPageLimit}
	for {
		list, next, err := d.s.cfg.Store.ListWebhooks(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, h := range list {
			if h.Enabled {
				hooks = append(hooks, h)
			}
		}
		if next == "" || next == p.Cursor {
			break
		}
		p.Cursor = next
	}
	d.hooks, d.loadedAt = hooks, time.Now()
	return hooks, nil
}

func (d *dispatcher) invalidate() {
	d.mu.Lock()
	d.loadedAt = time.Time{}
	d.mu.Unlock()
}

// webhooksChanged drops the webhook cache here and on every instance.
func (s *Server) webhooksChanged(ctx context.Context) {
	s.api.hooks.invalidate()
	if s.cfg.Events != nil {
		if err := s.cfg.Events.Notify(ctx, webhooksChannel, store.Resync); err != nil {
			s.cfg.Logger.Warn("webhooks: notify other instances", "err", err)
		}
	}
}
