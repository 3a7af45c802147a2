package keys

import (
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/keyward/keyward/store/coalesce"
)

// Service issues, manages and verifies API keys. It is safe for concurrent
// use. Call Run in a goroutine to flush usage counts, and Close when done.
type Service struct {
	store   Store
	events  Events
	auditor Auditor
	log     *slog.Logger
	now     func() time.Time
	rand    io.Reader
	env     string
	flush   time.Duration
	counter RateCounter
	rsync   time.Duration

	obs     Observer
	digests *digester
	cache   *cache
	fetch   func(context.Context, string) (*APIKey, error) // s.fetchKey, made once: a method value per call would allocate
	loader  *coalesce.Loader[string, *APIKey]              // nil: the store reads one key at a time
	limits  limiter
	usage   usage

	randMu      sync.Mutex // serialises reads of rand
	flushMu     sync.Mutex // one Flush at a time
	unsubscribe func()
	// origin tags this Service's own notifications.
	origin    string
	closeOnce sync.Once
}

// New returns a Service for cfg, subscribed to invalidations on Channel
// when cfg.Events is set. It returns cfg.Validate's error.
func New(cfg Config) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Service{
		store:   cfg.Store,
		events:  cfg.Events,
		auditor: cfg.Auditor,
		log:     cfg.Logger,
		now:     cfg.Now,
		rand:    cfg.Rand,
		env:     cfg.Env,
		flush:   cfg.FlushInterval,
		counter: cfg.RateCounter,
		rsync:   cfg.RateSyncInterval,
		digests: newDigester(cfg.Secret),
	}
	s.usage.limit, s.usage.full = int64(cfg.FlushKeys), make(chan struct{}, 1)
	s.cache = newCache(cfg.CacheTTL, cfg.NegativeCacheTTL, cfg.CacheBytes, cfg.Now)
	s.fetch = s.fetchKey
	if b, ok := cfg.Store.(BatchStore); ok {
		s.loader = coalesce.New(b.GetAPIKeys, coalesce.Config{OnBatch: coalesce.Observe(cfg.Observer, coalesce.LoaderAPIKeys)})
	}
	s.cache.obs, s.obs = cfg.Observer, cfg.Observer
	origin := make([]byte, 6)
	if _, err := io.ReadFull(s.rand, origin); err != nil {
		return nil, err
	}
	s.origin = hex.EncodeToString(origin)
	if s.events != nil {
		s.unsubscribe = s.events.Subscribe(Channel, s.onEvent)
	}
	return s, nil
}

// Env returns the environment this Service issues and accepts.
func (s *Service) Env() string { return s.env }

// Run flushes usage counts every FlushInterval, as soon as FlushKeys keys
// have counts waiting, and once more when ctx ends; with a RateCounter it
// also shares rate-limit counts every RateSyncInterval. It returns nil when
// ctx ends. After an early flush fails, the next try waits for the
// interval (a store that is down is not asked again for every new key).
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.flush)
	defer t.Stop()
	early := s.usage.full
	var rateTick <-chan time.Time
	if s.counter != nil {
		rt := time.NewTicker(s.rsync)
		defer rt.Stop()
		rateTick = rt.C
	}
	for {
		select {
		case <-rateTick:
			if err := s.SyncRateLimits(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("api keys: sharing rate-limit counts; other instances see them at the next sync", "err", err)
			}
		case <-early:
			if err := s.Flush(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("api keys: flushing usage counts", "err", err)
				early = nil
			}
		case <-t.C:
			early = s.usage.full
			if err := s.Flush(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("api keys: flushing usage counts", "err", err)
			}
			now := s.now()
			s.cache.sweep()
			s.limits.sweep(now)
			if s.counter != nil {
				if err := s.counter.PruneAPIKeyHits(ctx, now); err != nil && ctx.Err() == nil {
					s.log.Warn("api keys: pruning rate-limit windows", "err", err)
				}
			}
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := s.Flush(fctx); err != nil {
				s.log.Warn("api keys: flushing usage counts", "err", err)
			}
			return nil
		}
	}
}

// SyncRateLimits adds this instance's new rate-limit counts to the shared
// ones and learns what every instance counted (Run calls it every
// RateSyncInterval). It does nothing without a RateCounter.
func (s *Service) SyncRateLimits(ctx context.Context) error {
	if s.counter == nil {
		return nil
	}
	return s.limits.sync(ctx, s.counter, s.now())
}

// flushChunk is the most usage counts one Store.RecordAPIKeyUsage call
// writes: a tour of 100,000 keys in a minute is flushed in ten writes,
// so no one write builds a statement batch of every key in memory.
const flushChunk = 10_000

// Flush writes the usage counts gathered since the last flush, at most
// flushChunk keys a write. Counts that cannot be written are kept for the
// next one. The counts go to the store one chunk at a time, each built in
// the same buffer as the pending maps are emptied: however many keys were
// used, a flush holds one chunk's list (480 KB), not a list of every key
// (4.8 MB and as much again while it grew, after a tour of 100,000 keys,
// allocated all at once on a heap at its limit). The store must not keep
// the slice it is given.
func (s *Service) Flush(ctx context.Context) error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	pending := s.usage.take()
	n := 0
	for _, m := range pending {
		n += m.len()
	}
	chunk := make([]Usage, 0, min(n, flushChunk))
	for i, m := range pending {
		for id, c := range m.all() {
			chunk = append(chunk, c.usage(id))
			delete(m.index, id) // what is left in pending is what was not written
			if len(chunk) < flushChunk {
				continue
			}
			if err := s.store.RecordAPIKeyUsage(ctx, chunk); err != nil {
				s.usage.restore(chunk)
				s.usage.restoreTaken(pending[i:])
				return err
			}
			chunk = chunk[:0]
		}
		pending[i] = usageCounts{} // emptied: its memory can go
	}
	if len(chunk) == 0 {
		return nil
	}
	if err := s.store.RecordAPIKeyUsage(ctx, chunk); err != nil {
		s.usage.restore(chunk)
		return err
	}
	return nil
}

// Close stops listening for invalidations and flushes usage counts.
func (s *Service) Close() error {
	var err error
	s.closeOnce.Do(func() {
		if s.unsubscribe != nil {
			s.unsubscribe()
		}
		s.cache.close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = s.Flush(ctx)
	})
	return err
}

// onEvent applies an invalidation from the events channel: "id origin"
// (ignored when this Service sent it: its own cache was already cleared,
// and a late echo would only evict an entry loaded since), a bare id, or
// resync.
func (s *Service) onEvent(payload string) {
	id, origin, _ := strings.Cut(payload, " ")
	if origin != "" && origin == s.origin {
		return
	}
	s.cache.invalidate(id)
}

// invalidate drops id from this instance's cache and tells every other
// instance to do the same, before the write that called it returns. A
// failed notification is logged: other instances then catch up within
// CacheTTL.
func (s *Service) invalidate(ctx context.Context, id string) {
	s.cache.invalidate(id)
	if s.events == nil {
		return
	}
	if err := s.events.Notify(ctx, Channel, id+" "+s.origin); err != nil {
		s.log.Warn("api keys: cache invalidation not sent; other instances catch up within the cache TTL",
			"key_id", id, "err", err)
	}
}

// commit makes write and records event about key id in one transaction
// (neither happens without the other), then drops the key from every
// instance's cache.
func (s *Service) commit(ctx context.Context, event, id string, data map[string]any, write func(ctx context.Context) error) error {
	run := write
	if s.auditor != nil {
		run = func(ctx context.Context) error {
			return s.auditor.Atomic(ctx, func(ctx context.Context) error {
				if err := write(ctx); err != nil {
					return err
				}
				return s.auditor.Record(ctx, event, id, data)
			})
		}
	}
	if err := run(ctx); err != nil {
		return err
	}
	s.invalidate(ctx, id)
	return nil
}

// random returns n random base62 characters.
func (s *Service) random(n int) (string, error) {
	s.randMu.Lock()
	defer s.randMu.Unlock()
	return randomBase62(s.rand, n)
}
