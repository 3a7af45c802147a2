package webhooks

import (
	"context"
	"strings"
	"time"

	"github.com/keyward/keyward/store"
)

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
func (d *Dispatcher) enabled(ctx context.Context) ([]*store.Webhook, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.loadedAt.IsZero() && time.Since(d.loadedAt) < webhookCacheTTL {
		return d.hooks, nil
	}
	var hooks []*store.Webhook
	p := store.Page{Limit: store.MaxPageLimit}
	for {
		list, next, err := d.cfg.Store.ListWebhooks(ctx, p)
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

func (d *Dispatcher) invalidate() {
	d.mu.Lock()
	d.loadedAt = time.Time{}
	d.mu.Unlock()
}
