package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/keyward/keyward/admin/internal/seal"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store"
)

// Defaults of Config.
const (
	DefaultPollInterval = time.Second
	DefaultTimeout      = 10 * time.Second
	DefaultRetryFor     = 72 * time.Hour
	DefaultDisableAfter = 5 * 24 * time.Hour
	DefaultRetention    = 7 * 24 * time.Hour
	DefaultMinBackoff   = 5 * time.Second
	DefaultMaxBackoff   = 15 * time.Minute
	defaultWorkers      = 4
	batch               = 100
	pruneEvery          = 10 * time.Minute
)

// Store is the part of the store the dispatcher uses (store.Store).
type Store interface {
	store.OutboxStore
	CreateWebhook(ctx context.Context, w *store.Webhook) error
	GetWebhook(ctx context.Context, id string) (*store.Webhook, error)
	UpdateWebhook(ctx context.Context, w *store.Webhook) error
	DeleteWebhook(ctx context.Context, id string) error
}

var _ Store = store.Store(nil)

// Auditor records the dispatcher's own events (a webhook disabled) in the
// transaction of the change (store.Auditor).
type Auditor interface {
	Record(ctx context.Context, eventType, subject string, data map[string]any) error
	Atomic(ctx context.Context, fn func(ctx context.Context) error) error
}

// Observer is told of every attempt, for metrics: outcome is "delivered",
// "retrying" (failed, will be retried) or "failed" (out of retries).
type Observer interface {
	Delivered(outcome string)
}

// Config is what a Dispatcher needs; Store, Auditor and Secret are
// required. Zero durations take the defaults.
type Config struct {
	Store   Store
	Auditor Auditor
	// Secret derives the key that seals the webhooks' signing secrets.
	Secret keys.Secret
	// Owner names this instance in leases (default: random).
	Owner string
	// PollInterval is how often the outbox is read when nothing wakes the
	// dispatcher.
	PollInterval time.Duration
	// Timeout bounds one attempt.
	Timeout time.Duration
	// RetryFor is how long a delivery is retried after its first attempt
	// before it is marked failed.
	RetryFor time.Duration
	// DisableAfter disables a webhook whose attempts have all failed for
	// this long (an audit event, webhook.disabled, says so); negative:
	// never.
	DisableAfter time.Duration
	// Retention is how long finished deliveries and their attempts stay in
	// the delivery log.
	Retention time.Duration
	// MinBackoff and MaxBackoff bound the wait before a retry: it doubles
	// from MinBackoff with each failed attempt, up to MaxBackoff, with
	// jitter.
	MinBackoff, MaxBackoff time.Duration
	// Workers is how many webhooks are delivered to at once.
	Workers int
	// Client makes the requests (default: one that follows no redirect).
	Client   *http.Client
	Observer Observer
	// Logouts, when set, makes the dispatcher deliver the back-channel
	// logout outbox too (see LogoutConfig).
	Logouts *LogoutConfig
	// Logger receives failed deliveries (nil: they are not logged).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.PollInterval, DefaultPollInterval)
	def(&c.Timeout, DefaultTimeout)
	def(&c.RetryFor, DefaultRetryFor)
	def(&c.DisableAfter, DefaultDisableAfter)
	def(&c.Retention, DefaultRetention)
	def(&c.MinBackoff, DefaultMinBackoff)
	def(&c.MaxBackoff, DefaultMaxBackoff)
	if c.Workers <= 0 {
		c.Workers = defaultWorkers
	}
	if c.Owner == "" {
		b := make([]byte, 8)
		rand.Read(b)
		c.Owner = hex.EncodeToString(b)
	}
	if c.Client == nil {
		c.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logouts != nil && c.Logouts.RetryFor == 0 {
		c.Logouts.RetryFor = DefaultLogoutRetryFor
	}
}

// Dispatcher delivers the outbox: any number of instances (and the
// deliveries queued by management commands) share it through the
// database, each webhook leased to one instance at a time, so its
// deliveries go out one by one, in order.
type Dispatcher struct {
	cfg    Config
	secret *seal.Sealer
	wake   chan struct{}
}

// New checks cfg and returns a Dispatcher; it delivers nothing until Run.
func New(cfg Config) (*Dispatcher, error) {
	if cfg.Store == nil || cfg.Auditor == nil {
		return nil, errors.New("webhooks: Store and Auditor are required")
	}
	if err := cfg.Secret.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logouts != nil {
		if cfg.Logouts.Store == nil || cfg.Logouts.Tokens == nil {
			return nil, errors.New("webhooks: Logouts needs Store and Tokens")
		}
		lc := *cfg.Logouts
		cfg.Logouts = &lc
	}
	cfg.defaults()
	return &Dispatcher{
		cfg:    cfg,
		secret: seal.New(cfg.Secret.Derive(keys.PurposeWebhookSecret)),
		wake:   make(chan struct{}, 1),
	}, nil
}

// Wake makes Run look at the outbox now rather than at its next poll. It
// never blocks.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// OnAuditEvent wakes the dispatcher; wire it to store.Auditor.OnEvent,
// which calls it once an event's transaction has committed (its
// deliveries are in the outbox by then). The instance that recorded an
// event delivers it itself, so no other instance needs telling: they
// find what this one leaves (a webhook it cannot lease, a management
// command's events) at their next poll.
func (d *Dispatcher) OnAuditEvent(*store.AuditEvent) { d.Wake() }

// Changed wakes the dispatcher after a change made to the store directly:
// a webhook enabled again may have deliveries waiting. (Create, Update,
// and the other changes here wake it themselves.)
func (d *Dispatcher) Changed(ctx context.Context) { d.Wake() }

// Run delivers until ctx ends, then returns once the attempts under way
// have ended and their leases are released.
func (d *Dispatcher) Run(ctx context.Context) {
	tick := time.NewTicker(d.cfg.PollInterval)
	defer tick.Stop()
	var lastPrune time.Time
	for {
		if d.cycle(ctx) {
			d.Wake() // a full batch: more may be due
		}
		if d.cycleLogouts(ctx) {
			d.Wake()
		}
		if now := d.cfg.Now(); now.Sub(lastPrune) > pruneEvery {
			lastPrune = now
			d.prune(ctx)
			d.pruneLogouts(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-tick.C:
		}
	}
}

// Close releases idle connections to receivers. Call it once Run has
// returned.
func (d *Dispatcher) Close() { d.cfg.Client.CloseIdleConnections() }

// cycle delivers to every webhook that has a delivery due, Workers at a
// time; true when one of them had more than a batch waiting.
func (d *Dispatcher) cycle(ctx context.Context) (more bool) {
	if ctx.Err() != nil {
		return false
	}
	ids, err := d.cfg.Store.DueWebhooks(ctx, d.cfg.Owner, d.cfg.Now(), 64)
	if err != nil {
		if ctx.Err() == nil {
			d.cfg.Logger.Warn("webhooks: cannot read the outbox", "err", err)
		}
		return false
	}
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		sem = make(chan struct{}, d.cfg.Workers)
	)
	for _, id := range ids {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if d.serve(ctx, id) {
				mu.Lock()
				more = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return more
}

// leaseFor is how long a lease lasts: longer than one attempt, renewed
// before each.
func (d *Dispatcher) leaseFor() time.Duration { return 2*d.cfg.Timeout + 5*time.Second }

// serve leases the webhook id and delivers its due deliveries in order,
// stopping at the first failure (the rest wait behind it); true when a
// whole batch went out.
func (d *Dispatcher) serve(ctx context.Context, id string) bool {
	now := d.cfg.Now()
	if ok, err := d.cfg.Store.LeaseWebhook(ctx, id, d.cfg.Owner, now, now.Add(d.leaseFor())); !ok || err != nil {
		return false
	}
	defer func() {
		if err := d.cfg.Store.ReleaseWebhook(context.WithoutCancel(ctx), id, d.cfg.Owner); err != nil {
			d.cfg.Logger.Warn("webhooks: release lease", "webhook", id, "err", err)
		}
	}()
	w, err := d.cfg.Store.GetWebhook(ctx, id)
	if err != nil || !w.Enabled {
		return false
	}
	pending, err := d.cfg.Store.PendingDeliveries(ctx, id, batch)
	if err != nil {
		return false
	}
	for _, dl := range pending {
		now := d.cfg.Now()
		if ctx.Err() != nil || dl.NextAttemptAt.After(now) {
			return false
		}
		// Renew the lease for this attempt; a lease lost (a pause longer
		// than the lease) leaves the webhook to its new holder.
		if ok, err := d.cfg.Store.LeaseWebhook(ctx, id, d.cfg.Owner, now, now.Add(d.leaseFor())); !ok || err != nil {
			return false
		}
		if !d.attempt(ctx, w, dl) {
			return false
		}
	}
	return len(pending) == batch
}

// prune drops finished deliveries older than the retention.
func (d *Dispatcher) prune(ctx context.Context) {
	n, err := d.cfg.Store.PruneDeliveries(ctx, d.cfg.Now().Add(-d.cfg.Retention))
	if err != nil && ctx.Err() == nil {
		d.cfg.Logger.Warn("webhooks: prune the delivery log", "err", err)
	} else if n > 0 {
		d.cfg.Logger.Debug("webhooks: pruned the delivery log", "deliveries", n)
	}
}
