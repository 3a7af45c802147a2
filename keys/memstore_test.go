package keys

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keyward/keyward/store"
)

// memStore is an in-memory Store for unit tests and benchmarks; it counts
// calls so tests can assert that a path makes none.
type memStore struct {
	mu    sync.Mutex
	keys  map[string]*APIKey
	calls atomic.Int64
}

var _ Store = (*memStore)(nil)

func newMemStore() *memStore { return &memStore{keys: map[string]*APIKey{}} }

func clone(k *APIKey) *APIKey {
	c := *k
	c.Scopes = slices.Clone(k.Scopes)
	c.Metadata = maps.Clone(k.Metadata)
	c.Secrets = slices.Clone(k.Secrets)
	return &c
}

func (m *memStore) CreateAPIKey(_ context.Context, k *APIKey) error {
	m.calls.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.keys[k.ID]; ok {
		return store.ErrConflict
	}
	k.CreatedAt, k.UpdatedAt = truncate(time.Now()), truncate(time.Now())
	m.keys[k.ID] = clone(k)
	return nil
}

func (m *memStore) GetAPIKey(_ context.Context, id string) (*APIKey, error) {
	m.calls.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[id]
	if !ok {
		return nil, fmt.Errorf("get %s: %w", id, store.ErrNotFound)
	}
	return clone(k), nil
}

func (m *memStore) SearchAPIKeys(_ context.Context, q string, limit int, cursor string) ([]*APIKey, string, error) {
	m.calls.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := slices.Sorted(maps.Keys(m.keys))
	q = strings.ToLower(q)
	var out []*APIKey
	for _, id := range ids {
		k := m.keys[id]
		if id > cursor && len(out) < limit && strings.Contains(strings.ToLower(k.ID+"\x00"+k.Name+"\x00"+k.Hint), q) {
			c := clone(k)
			c.Secrets = nil
			out = append(out, c)
		}
	}
	if len(out) < limit {
		return out, "", nil
	}
	return out, out[len(out)-1].ID, nil
}

func (m *memStore) ListAPIKeys(_ context.Context, limit int, cursor string) ([]*APIKey, string, error) {
	m.calls.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := slices.Collect(maps.Keys(m.keys))
	sort.Strings(ids)
	var out []*APIKey
	for _, id := range ids {
		if id > cursor && len(out) < limit {
			c := clone(m.keys[id])
			c.Secrets = nil
			out = append(out, c)
		}
	}
	if len(out) < limit {
		return out, "", nil
	}
	return out, out[len(out)-1].ID, nil
}

func (m *memStore) edit(id string, fn func(k *APIKey) error) error {
	m.calls.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[id]
	if !ok {
		return store.ErrNotFound
	}
	k.UpdatedAt = truncate(time.Now())
	return fn(k)
}

func (m *memStore) UpdateAPIKey(_ context.Context, u *APIKey) error {
	return m.edit(u.ID, func(k *APIKey) error {
		k.Name, k.Scopes, k.Metadata, k.RateLimit, k.ExpiresAt = u.Name, slices.Clone(u.Scopes), maps.Clone(u.Metadata), u.RateLimit, u.ExpiresAt
		return nil
	})
}

func (m *memStore) SetAPIKeyDisabled(_ context.Context, id string, disabled bool) error {
	return m.edit(id, func(k *APIKey) error { k.Disabled = disabled; return nil })
}

func (m *memStore) RevokeAPIKey(_ context.Context, id string, at time.Time) error {
	return m.edit(id, func(k *APIKey) error {
		if k.RevokedAt.IsZero() {
			k.RevokedAt = at
		}
		return nil
	})
}

func (m *memStore) RollAPIKey(_ context.Context, id string, digest []byte, hint string, graceUntil time.Time) error {
	return m.edit(id, func(k *APIKey) error {
		if k.Revoked() {
			return store.ErrConflict
		}
		var next []SecretDigest
		for _, s := range k.Secrets {
			if s.Current() || s.ValidUntil.After(graceUntil) {
				s.ValidUntil = graceUntil
			}
			next = append(next, s)
		}
		k.Secrets = append([]SecretDigest{{Digest: digest, CreatedAt: truncate(time.Now())}}, next...)
		k.Hint = hint
		return nil
	})
}

func (m *memStore) DeleteAPIKey(_ context.Context, id string) error {
	m.calls.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.keys[id]; !ok {
		return store.ErrNotFound
	}
	delete(m.keys, id)
	return nil
}

func (m *memStore) RecordAPIKeyUsage(_ context.Context, batch []Usage) error {
	m.calls.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, u := range batch {
		if k, ok := m.keys[u.ID]; ok {
			k.UsageCount += u.Count
			if u.LastUsedAt.After(k.LastUsedAt) {
				k.LastUsedAt = u.LastUsedAt
			}
		}
	}
	return nil
}
