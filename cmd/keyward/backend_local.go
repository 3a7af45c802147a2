package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/authz/resources"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
)

// localBackend works on the database directly, through the same services
// the admin API uses (validated and audited the same way, as actor
// "cli"); running servers learn of changes through the database.
type localBackend struct {
	m      *Main
	db     database
	secret keys.Secret
	// apikeys is the API-key service, made on first use and closed with m.
	apikeys *keys.Service
}

func (b *localBackend) auditor() *store.Auditor { return newAuditor(b.db) }

func (b *localBackend) clients() (*clients.Registry, error) {
	return newClients(b.db, b.secret, b.auditor(), nil)
}

func (b *localBackend) CreateClient(ctx context.Context, p clients.Params) (clients.View, error) {
	reg, err := b.clients()
	if err != nil {
		return clients.View{}, err
	}
	c, sec, err := reg.Create(ctx, p)
	if err != nil {
		return clients.View{}, err
	}
	return clients.NewView(c, sec), nil
}

func (b *localBackend) UpdateClient(ctx context.Context, id string, p clients.Params, changed func(string) bool) (clients.View, error) {
	reg, err := b.clients()
	if err != nil {
		return clients.View{}, err
	}
	cur, err := b.db.GetClient(ctx, id)
	if err != nil {
		return clients.View{}, err
	}
	c, err := reg.Update(ctx, id, updatedParams(cur, p, changed))
	if err != nil {
		return clients.View{}, err
	}
	return clients.NewView(c, ""), nil
}

func (b *localBackend) ListClients(ctx context.Context, limit int, cursor string) ([]clients.View, string, error) {
	items, next, err := b.db.ListClients(ctx, store.Page{Limit: limit, Cursor: cursor})
	return views(items, func(c *store.Client) clients.View { return clients.NewView(c, "") }), next, err
}

func (b *localBackend) GetClient(ctx context.Context, id string) (clients.View, error) {
	c, err := b.db.GetClient(ctx, id)
	if err != nil {
		return clients.View{}, err
	}
	return clients.NewView(c, ""), nil
}

func (b *localBackend) DeleteClient(ctx context.Context, id string) error {
	reg, err := b.clients()
	if err != nil {
		return err
	}
	return reg.Delete(ctx, id)
}

func (b *localBackend) SetClientDisabled(ctx context.Context, id string, disabled bool) (clients.View, error) {
	reg, err := b.clients()
	if err != nil {
		return clients.View{}, err
	}
	c, err := reg.SetDisabled(ctx, id, disabled)
	if err != nil {
		return clients.View{}, err
	}
	return clients.NewView(c, ""), nil
}

func (b *localBackend) RotateClientSecret(ctx context.Context, id string) (clients.View, error) {
	reg, err := b.clients()
	if err != nil {
		return clients.View{}, err
	}
	c, sec, err := reg.RotateSecret(ctx, id)
	if err != nil {
		return clients.View{}, err
	}
	return clients.NewView(c, sec), nil
}

// users returns the user service; revoking also ends the grants of a
// disabled or deleted user on every running server, as the admin API does.
func (b *localBackend) users(ctx context.Context, revoking bool) (*accounts.Users, error) {
	cfg := accounts.UsersConfig{Store: b.db, Auditor: b.auditor(), NewID: newID, Factors: b.db}
	if revoking {
		revoke, done, err := b.m.grantRevoker(ctx, b.db, b.secret)
		if err != nil {
			return nil, err
		}
		b.m.onClose(func() error { done(); return nil })
		cfg.RevokeGrants = revoke
	}
	return accounts.NewUsers(cfg)
}

func (b *localBackend) CreateUser(ctx context.Context, p accounts.UserParams) (accounts.UserView, error) {
	svc, err := b.users(ctx, false)
	if err != nil {
		return accounts.UserView{}, err
	}
	u, err := svc.Create(ctx, p)
	if err != nil {
		return accounts.UserView{}, err
	}
	return accounts.NewUserView(u), nil
}

func (b *localBackend) ListUsers(ctx context.Context, limit int, cursor string) ([]accounts.UserView, string, error) {
	items, next, err := b.db.ListUsers(ctx, store.Page{Limit: limit, Cursor: cursor})
	return views(items, accounts.NewUserView), next, err
}

func (b *localBackend) GetUser(ctx context.Context, ref string) (accounts.UserView, error) {
	u, err := findUser(ctx, b.db, ref)
	if err != nil {
		return accounts.UserView{}, err
	}
	return accounts.NewUserView(u), nil
}

func (b *localBackend) EditUser(ctx context.Context, id string, ch accounts.UserChange) (accounts.UserView, error) {
	svc, err := b.users(ctx, ch.Disabled != nil && *ch.Disabled)
	if err != nil {
		return accounts.UserView{}, err
	}
	u, err := svc.Edit(ctx, id, ch)
	if err != nil {
		return accounts.UserView{}, err
	}
	return accounts.NewUserView(u), nil
}

func (b *localBackend) DeleteUser(ctx context.Context, id string) error {
	svc, err := b.users(ctx, true)
	if err != nil {
		return err
	}
	return svc.Remove(ctx, id)
}

func (b *localBackend) ResetUserFactors(ctx context.Context, id string) (accounts.FactorsResetView, error) {
	svc, err := b.users(ctx, false)
	if err != nil {
		return accounts.FactorsResetView{}, err
	}
	u, err := findUser(ctx, b.db, id)
	if err != nil {
		return accounts.FactorsResetView{}, err
	}
	r, err := svc.ResetFactors(ctx, u.ID)
	if err != nil {
		return accounts.FactorsResetView{}, err
	}
	return accounts.NewFactorsResetView(u, r), nil
}

func (b *localBackend) apiKeys() (*keys.Service, error) {
	if b.apikeys != nil {
		return b.apikeys, nil
	}
	svc, err := newAPIKeys(b.db, b.secret, b.m.Config.apiKeyEnv(), b.auditor(), b.m.log(), nil)
	if err != nil {
		return nil, err
	}
	b.apikeys = svc
	b.m.onClose(svc.Close)
	return svc, nil
}

// apiKey runs op on the API-key service and renders the key it returns.
func (b *localBackend) apiKey(op func(*keys.Service) (*keys.APIKey, string, error)) (keys.View, error) {
	svc, err := b.apiKeys()
	if err != nil {
		return keys.View{}, err
	}
	k, raw, err := op(svc)
	if err != nil {
		return keys.View{}, err
	}
	return keys.NewView(k, raw), nil
}

func (b *localBackend) CreateAPIKey(ctx context.Context, p keys.CreateParams) (keys.View, error) {
	return b.apiKey(func(s *keys.Service) (*keys.APIKey, string, error) { return s.Create(ctx, p) })
}

func (b *localBackend) ListAPIKeys(ctx context.Context, limit int, cursor string) ([]keys.View, string, error) {
	svc, err := b.apiKeys()
	if err != nil {
		return nil, "", err
	}
	items, next, err := svc.List(ctx, limit, cursor)
	return views(items, func(k *keys.APIKey) keys.View { return keys.NewView(k, "") }), next, err
}

func (b *localBackend) GetAPIKey(ctx context.Context, id string) (keys.View, error) {
	return b.apiKey(func(s *keys.Service) (*keys.APIKey, string, error) {
		k, err := s.Get(ctx, id)
		return k, "", err
	})
}

func (b *localBackend) RevokeAPIKey(ctx context.Context, id string) (keys.View, error) {
	return b.apiKey(func(s *keys.Service) (*keys.APIKey, string, error) {
		if err := s.Revoke(ctx, id); err != nil {
			return nil, "", err
		}
		k, err := s.Get(ctx, id)
		return k, "", err
	})
}

func (b *localBackend) RollAPIKey(ctx context.Context, id string, grace time.Duration) (keys.View, error) {
	return b.apiKey(func(s *keys.Service) (*keys.APIKey, string, error) { return s.Roll(ctx, id, grace) })
}

func (b *localBackend) resources() (*resources.Registry, error) {
	return newResources(b.db, b.auditor(), nil)
}

func (b *localBackend) CreateResource(ctx context.Context, p resources.Params) (resources.View, error) {
	reg, err := b.resources()
	if err != nil {
		return resources.View{}, err
	}
	r, err := reg.Create(ctx, p)
	if err != nil {
		return resources.View{}, err
	}
	return resources.NewView(r), nil
}

func (b *localBackend) ListResources(ctx context.Context, limit int, cursor string) ([]resources.View, string, error) {
	items, next, err := b.db.ListResources(ctx, store.Page{Limit: limit, Cursor: cursor})
	return views(items, resources.NewView), next, err
}

func (b *localBackend) DeleteResource(ctx context.Context, ref string) (resources.View, error) {
	reg, err := b.resources()
	if err != nil {
		return resources.View{}, err
	}
	r, err := reg.Delete(ctx, ref)
	if err != nil {
		return resources.View{}, err
	}
	return resources.NewView(r), nil
}

func (b *localBackend) initialTokens() (*clients.InitialTokens, error) {
	return newInitialTokens(b.db, b.secret, b.auditor())
}

func (b *localBackend) CreateRegistrationToken(ctx context.Context, ttl time.Duration, uses int) (clients.InitialTokenView, error) {
	tokens, err := b.initialTokens()
	if err != nil {
		return clients.InitialTokenView{}, err
	}
	tok, raw, err := tokens.Create(ctx, ttl, uses)
	if err != nil {
		return clients.InitialTokenView{}, err
	}
	return clients.NewInitialTokenView(tok, raw, nowUTC()), nil
}

func (b *localBackend) ListRegistrationTokens(ctx context.Context, limit int, cursor string) ([]clients.InitialTokenView, string, error) {
	tokens, err := b.initialTokens()
	if err != nil {
		return nil, "", err
	}
	items, next, err := tokens.List(ctx, store.Page{Limit: limit, Cursor: cursor})
	now := nowUTC()
	return views(items, func(t *store.RegistrationToken) clients.InitialTokenView {
		return clients.NewInitialTokenView(t, "", now)
	}), next, err
}

func (b *localBackend) RevokeRegistrationToken(ctx context.Context, id string) (clients.InitialTokenView, error) {
	tokens, err := b.initialTokens()
	if err != nil {
		return clients.InitialTokenView{}, err
	}
	tok, err := tokens.Revoke(ctx, id)
	if err != nil {
		return clients.InitialTokenView{}, err
	}
	return clients.NewInitialTokenView(tok, "", nowUTC()), nil
}

// providers returns the provider registry, whose redirect URIs are under
// --public-issuer (providersIssuer).
func (b *localBackend) providers() (*accounts.Providers, error) {
	return newProviders(b.db, b.secret, b.m.providersIssuer(), b.auditor())
}

func (b *localBackend) CreateProvider(ctx context.Context, p accounts.ProviderParams) (accounts.ProviderView, error) {
	reg, err := b.providers()
	if err != nil {
		return accounts.ProviderView{}, err
	}
	up, err := reg.Create(ctx, p)
	if err != nil {
		return accounts.ProviderView{}, err
	}
	return reg.View(up), nil
}

func (b *localBackend) ListProviders(ctx context.Context, limit int, cursor string) ([]accounts.ProviderView, string, error) {
	reg, err := b.providers()
	if err != nil {
		return nil, "", err
	}
	items, next, err := reg.List(ctx, store.Page{Limit: limit, Cursor: cursor})
	return views(items, reg.View), next, err
}

func (b *localBackend) DeleteProvider(ctx context.Context, ref string) (accounts.ProviderView, error) {
	reg, err := b.providers()
	if err != nil {
		return accounts.ProviderView{}, err
	}
	up, err := reg.Delete(ctx, ref)
	if err != nil {
		return accounts.ProviderView{}, err
	}
	return reg.View(up), nil
}

func (b *localBackend) signing() (*signing.Service, error) {
	return newSigning(b.db, b.secret, 0, b.m.Config.JWKSMaxAge, b.auditor(), b.m.log())
}

func (b *localBackend) ListSigningKeys(ctx context.Context) ([]*signing.Record, error) {
	svc, err := b.signing()
	if err != nil {
		return nil, err
	}
	return svc.List(ctx)
}

// RotateSigningKeys refuses an unknown algorithm as a usage error, as
// the admin API answers it with a 422.
func (b *localBackend) RotateSigningKeys(ctx context.Context, alg string, force bool) ([]*signing.Record, error) {
	svc, err := b.signing()
	if err != nil {
		return nil, err
	}
	if err := svc.Bootstrap(ctx); err != nil {
		return nil, err
	}
	if algs := svc.Algorithms(); alg != "" && !slices.Contains(algs, alg) {
		// As the admin API words it.
		return nil, store.Invalid(fmt.Sprintf("alg %q: not one of the configured algorithms %s", alg, strings.Join(algs, ", ")))
	}
	opt := signing.RotateOptions{Force: force}
	if alg == "" {
		return svc.RotateAll(ctx, opt)
	}
	r, err := svc.Rotate(ctx, alg, opt)
	if err != nil {
		return nil, err
	}
	return []*signing.Record{r}, nil
}

func (b *localBackend) ImportSigningKey(ctx context.Context, key []byte, alg string, state signing.State) (*signing.Record, error) {
	svc, err := b.signing()
	if err != nil {
		return nil, err
	}
	// The admin API's checks, in its words.
	var probs []string
	if algs := signing.DefaultAlgorithms(); alg != "" && !slices.Contains(algs, alg) {
		probs = append(probs, fmt.Sprintf("alg %q: must be %s", alg, orList(algs)))
	}
	if !state.Valid() {
		probs = append(probs, fmt.Sprintf("state %q: must be next, active, retiring or retired", state))
	}
	if len(probs) > 0 {
		return nil, &store.ValidationError{Problems: probs}
	}
	rec, err := svc.Import(ctx, key, alg, state)
	if errors.Is(err, signing.ErrBadKey) {
		// The admin API's 400: the file is not a usable key.
		return nil, usagef("keys import: %v", err)
	}
	return rec, err
}

func (b *localBackend) RevokeSigningKey(ctx context.Context, kid string) (*signing.Record, error) {
	svc, err := b.signing()
	if err != nil {
		return nil, err
	}
	if err := svc.Revoke(ctx, kid); err != nil {
		return nil, err
	}
	recs, err := svc.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if r.KID == kid {
			return r, nil
		}
	}
	return nil, store.ErrNotFound
}

// views renders items with view.
func views[T, V any](items []T, view func(T) V) []V {
	out := make([]V, 0, len(items))
	for _, it := range items {
		out = append(out, view(it))
	}
	return out
}

// orList joins items as "a, b or c".
func orList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}
