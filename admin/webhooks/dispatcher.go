package webhooks

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyward/keyward/admin/internal/seal"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store"
)

const (
	webhooksChannel = "keyward_webhooks"
	webhookQueueLen = 1024
	webhookWorkers  = 2
	webhookTimeout  = 10 * time.Second
	// webhookCacheTTL bounds how long another instance's change goes unseen
	// when a notification is lost.
	webhookCacheTTL = 30 * time.Second
)

// Store is where the dispatcher reads the webhooks (store.Store).
type Store interface {
	// ListWebhooks returns one page ordered by ID and the next cursor.
	ListWebhooks(ctx context.Context, p store.Page) ([]*store.Webhook, string, error)
}

var _ Store = store.Store(nil)

// Config is what a Dispatcher needs; Store and Secret are required.
type Config struct {
	Store Store
	// Events, when set, carries "the webhooks changed" to every instance.
	Events store.Events
	// Secret derives the key that seals the webhooks' signing secrets.
	Secret keys.Secret
	// Backoff is the wait before each retry of a failed delivery; its
	// length is the number of retries (nil: 1s, 10s, 1m; empty: none).
	Backoff []time.Duration
	// Logger receives failed deliveries (nil: they are not logged).
	Logger *slog.Logger
	// Now is the time a signature carries (default time.Now).
	Now func() time.Time
}

// deliveryJob is an event to fan out (hookID "") or one delivery of it.
type deliveryJob struct {
	event   *store.AuditEvent
	hookID  string
	attempt int
}

// Dispatcher delivers audit events to webhooks.
type Dispatcher struct {
	cfg    Config
	secret *seal.Sealer
	queue  chan deliveryJob
	client *http.Client

	mu       sync.Mutex
	hooks    []*store.Webhook // the enabled webhooks
	loadedAt time.Time        // zero: reload
	stopped  atomic.Bool
}

// New checks cfg and returns a Dispatcher; it delivers nothing until Run.
func New(cfg Config) (*Dispatcher, error) {
	if cfg.Store == nil {
		return nil, errors.New("webhooks: Store is required")
	}
	if err := cfg.Secret.Validate(); err != nil {
		return nil, err
	}
	if cfg.Backoff == nil {
		cfg.Backoff = []time.Duration{time.Second, 10 * time.Second, time.Minute}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Dispatcher{
		cfg:    cfg,
		secret: seal.New(cfg.Secret.Derive(keys.PurposeWebhookSecret)),
		queue:  make(chan deliveryJob, webhookQueueLen),
		client: &http.Client{Timeout: webhookTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}, nil
}

// OnAuditEvent queues e for the webhooks; wire it to store.Auditor.OnEvent.
// It never blocks.
func (d *Dispatcher) OnAuditEvent(e *store.AuditEvent) {
	c := *e
	d.enqueue(deliveryJob{event: &c})
}

func (d *Dispatcher) enqueue(j deliveryJob) {
	if d.stopped.Load() {
		return
	}
	select {
	case d.queue <- j:
	default:
		d.cfg.Logger.Warn("webhook queue full; event not delivered", "event", j.event.ID, "type", j.event.Type, "webhook", j.hookID)
	}
}

// Run delivers webhooks until ctx ends, and returns when its workers
// have ended. Events queued before Run are delivered once it starts;
// events after it has returned are dropped.
func (d *Dispatcher) Run(ctx context.Context) {
	if d.cfg.Events != nil {
		cancel := d.cfg.Events.Subscribe(webhooksChannel, func(string) { d.invalidate() })
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
	wg.Wait()
	d.stopped.Store(true)
}

// Close drops the events still to come and the idle connections to
// receivers. Call it once Run has returned.
func (d *Dispatcher) Close() {
	d.stopped.Store(true)
	d.client.CloseIdleConnections()
}

func (d *Dispatcher) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-d.queue:
			d.handle(ctx, j)
		}
	}
}

// Changed drops the webhook cache here and on every instance: the admin
// API calls it after creating, changing or deleting a webhook.
func (d *Dispatcher) Changed(ctx context.Context) {
	d.invalidate()
	if d.cfg.Events != nil {
		if err := d.cfg.Events.Notify(ctx, webhooksChannel, store.Resync); err != nil {
			d.cfg.Logger.Warn("webhooks: notify other instances", "err", err)
		}
	}
}
