package keys

import (
	"context"
	"fmt"
	"time"

	"github.com/keyward/keyward/store"
)

// Create issues a new key and returns its record and the key string, which
// is shown once and never stored. It returns store.ErrInvalid for bad params.
func (s *Service) Create(ctx context.Context, p CreateParams) (*APIKey, string, error) {
	if err := p.validate(); err != nil {
		return nil, "", err
	}
	now := s.now()
	exp, err := p.expiry(now)
	if err != nil {
		return nil, "", err
	}
	id, err := s.random(IDLen)
	if err != nil {
		return nil, "", err
	}
	raw, err := s.newSecret(s.env, id)
	if err != nil {
		return nil, "", err
	}
	k := &APIKey{
		ID: id, Env: s.env, Name: p.Name, Hint: hint(raw),
		OwnerType: p.OwnerType, OwnerID: p.OwnerID,
		Scopes: dedupe(p.Scopes), Metadata: p.Metadata, RateLimit: p.RateLimit, ExpiresAt: exp,
		Secrets: []SecretDigest{{Digest: s.digests.digest(raw)}},
	}
	// The cache is told too, in case an instance remembers the id as unknown.
	err = s.commit(ctx, EventCreated, id, map[string]any{
		"name": k.Name, "hint": k.Hint, "scopes": k.Scopes, "owner_type": k.OwnerType,
		"owner_id": k.OwnerID, "expires_at": timeOrNil(exp), "rate_limit": k.RateLimit.String(),
	}, func(ctx context.Context) error { return s.store.CreateAPIKey(ctx, k) })
	if err != nil {
		return nil, "", err
	}
	return k, raw, nil
}

func (s *Service) newSecret(env, id string) (string, error) {
	secret, err := s.random(SecretLen)
	if err != nil {
		return "", err
	}
	return format(env, id, secret), nil
}

// Get returns the key with id, or store.ErrNotFound.
func (s *Service) Get(ctx context.Context, id string) (*APIKey, error) {
	return s.store.GetAPIKey(ctx, id)
}

// List returns up to limit keys after cursor, ordered by id, and the next
// cursor ("" after the last page).
func (s *Service) List(ctx context.Context, limit int, cursor string) ([]*APIKey, string, error) {
	return s.store.ListAPIKeys(ctx, limit, cursor)
}

// Search is List keeping only the keys whose id, name or hint contains q,
// ignoring case.
func (s *Service) Search(ctx context.Context, q string, limit int, cursor string) ([]*APIKey, string, error) {
	return s.store.SearchAPIKeys(ctx, q, limit, cursor)
}

// Update changes the non-nil fields of p and returns the updated key. It
// returns store.ErrNotFound or store.ErrInvalid. Concurrent updates of one key: the
// last one wins.
func (s *Service) Update(ctx context.Context, id string, p UpdateParams) (*APIKey, error) {
	k, err := s.store.GetAPIKey(ctx, id)
	if err != nil {
		return nil, err
	}
	changed := map[string]any{}
	if p.Name != nil {
		if err := validateName(*p.Name); err != nil {
			return nil, err
		}
		k.Name, changed["name"] = *p.Name, *p.Name
	}
	if p.Scopes != nil {
		if err := validateScopes(*p.Scopes); err != nil {
			return nil, err
		}
		k.Scopes = dedupe(*p.Scopes)
		changed["scopes"] = k.Scopes
	}
	if p.Metadata != nil {
		if err := validateMetadata(*p.Metadata); err != nil {
			return nil, err
		}
		k.Metadata, changed["metadata"] = *p.Metadata, true
	}
	if p.RateLimit != nil {
		if err := p.RateLimit.validate(); err != nil {
			return nil, err
		}
		k.RateLimit, changed["rate_limit"] = *p.RateLimit, p.RateLimit.String()
	}
	if p.ExpiresAt != nil {
		k.ExpiresAt, changed["expires_at"] = truncate(*p.ExpiresAt), timeOrNil(*p.ExpiresAt)
	}
	if err := s.commit(ctx, EventUpdated, id, changed, func(ctx context.Context) error {
		return s.store.UpdateAPIKey(ctx, k)
	}); err != nil {
		return nil, err
	}
	return k, nil
}

// Disable makes the key verify as REVOKED until Enable; store.ErrNotFound.
func (s *Service) Disable(ctx context.Context, id string) error {
	return s.setDisabled(ctx, id, true, EventDisabled)
}

// Enable undoes Disable (not Revoke); store.ErrNotFound.
func (s *Service) Enable(ctx context.Context, id string) error {
	return s.setDisabled(ctx, id, false, EventEnabled)
}

func (s *Service) setDisabled(ctx context.Context, id string, disabled bool, event string) error {
	return s.commit(ctx, event, id, nil, func(ctx context.Context) error {
		return s.store.SetAPIKeyDisabled(ctx, id, disabled)
	})
}

// Revoke ends the key for good: its current secret and any earlier one
// still in a roll's grace period. Every instance refuses it before Revoke
// returns (when Events are configured). It returns store.ErrNotFound.
func (s *Service) Revoke(ctx context.Context, id string) error {
	return s.commit(ctx, EventRevoked, id, nil, func(ctx context.Context) error {
		return s.store.RevokeAPIKey(ctx, id, truncate(s.now()))
	})
}

// Roll replaces the key's secret, keeping its id, and returns the updated
// record and the new key string. The previous secret keeps verifying for
// grace (0: it stops at once); an older secret still in grace keeps
// working no longer than that either. It returns store.ErrNotFound, store.ErrInvalid
// for a negative grace, and store.ErrConflict for a revoked key.
func (s *Service) Roll(ctx context.Context, id string, grace time.Duration) (*APIKey, string, error) {
	if grace < 0 {
		return nil, "", invalidf("negative grace period")
	}
	k, err := s.store.GetAPIKey(ctx, id)
	if err != nil {
		return nil, "", err
	}
	if k.Revoked() {
		return nil, "", fmt.Errorf("%w: key %s is revoked", store.ErrConflict, id)
	}
	raw, err := s.newSecret(k.Env, id)
	if err != nil {
		return nil, "", err
	}
	graceUntil := truncate(s.now().Add(grace))
	if err := s.commit(ctx, EventRolled, id, map[string]any{"hint": hint(raw), "grace_until": graceUntil},
		func(ctx context.Context) error {
			return s.store.RollAPIKey(ctx, id, s.digests.digest(raw), hint(raw), graceUntil)
		}); err != nil {
		return nil, "", err
	}
	if k, err = s.store.GetAPIKey(ctx, id); err != nil {
		return nil, "", err
	}
	return k, raw, nil
}

// Delete removes the key and its history; store.ErrNotFound.
func (s *Service) Delete(ctx context.Context, id string) error {
	if err := s.commit(ctx, EventDeleted, id, nil, func(ctx context.Context) error {
		return s.store.DeleteAPIKey(ctx, id)
	}); err != nil {
		return err
	}
	s.usage.forget(id)
	return nil
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}
