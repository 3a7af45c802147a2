package clients

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/keyward/keyward/store"
)

// SecretBytes is the entropy of generated client secrets (256 bits).
const SecretBytes = 32

// Config is what a Registry needs. Store, Hasher and NewID are required.
type Config struct {
	Store  store.ClientStore
	Hasher *Hasher
	NewID  func() string
	// Auditor records client.* events (nil: none are recorded).
	Auditor *store.Auditor
	// Rand is the source of client secrets (nil: crypto/rand).
	Rand io.Reader
	// OnChange is called with a client's id after it is created or changes,
	// so every instance drops it from its caches (nil: nothing is called).
	OnChange func(ctx context.Context, id string)
}

// Registry creates and manages OAuth2 clients. Its methods return
// store.ErrNotFound for an unknown id and a *store.ValidationError for
// settings that fail Params.Validate.
type Registry struct{ cfg Config }

// New checks cfg; it does no I/O.
func New(cfg Config) (*Registry, error) {
	if cfg.Store == nil || cfg.Hasher == nil || cfg.NewID == nil {
		return nil, errors.New("clients: Store, Hasher and NewID are required")
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &Registry{cfg: cfg}, nil
}

// Create validates p, stores a new client and returns it with its secret
// ("" for a public client), which is shown once and never stored.
func (r *Registry) Create(ctx context.Context, p Params) (*store.Client, string, error) {
	return r.create(ctx, p, "client.created", nil)
}

// create is Create with the event type typ; prepare, when set, completes
// the client before it is stored (Register marks it).
func (r *Registry) create(ctx context.Context, p Params, typ string, prepare func(*store.Client)) (*store.Client, string, error) {
	p = p.withDefaults()
	if err := p.Validate(); err != nil {
		return nil, "", err
	}
	cl := &store.Client{
		ID: r.cfg.NewID(), Name: p.Name, Public: p.Public, GrantTypes: p.GrantTypes, Scopes: p.Scopes,
		RedirectURIs: p.RedirectURIs, PostLogoutRedirectURIs: p.PostLogoutRedirectURIs,
		Audience: p.Audience, SkipConsent: p.SkipConsent, AccessTokenFormat: p.AccessTokenFormat,
		IDTokenAlg: p.IDTokenAlg, PKCEOptional: p.PKCEOptional, Resources: p.Resources, PARRequired: p.PARRequired,
		DPoPRequired:         p.DPoPRequired,
		BackchannelLogoutURI: p.BackchannelLogoutURI, BackchannelLogoutSessionRequired: p.BackchannelLogoutSessionRequired,
		AuthMethod: p.AuthMethod, JWKS: p.JWKS, JWKSURI: p.JWKSURI,
		MFA:     p.MFA,
		Profile: p.Profile,
		LogoURI: p.LogoURI,
	}
	var secret string
	if HasSecret(cl) {
		var err error
		if secret, err = r.newSecret(); err != nil {
			return nil, "", err
		}
		cl.SecretDigest = r.cfg.Hasher.Digest([]byte(secret))
	}
	if prepare != nil {
		prepare(cl)
	}
	if err := r.commit(ctx, typ, cl.ID,
		map[string]any{"name": cl.Name, "grant_types": cl.GrantTypes, "scope": strings.Join(cl.Scopes, " ")},
		func(ctx context.Context) error { return r.cfg.Store.CreateClient(ctx, cl) }); err != nil {
		return nil, "", err
	}
	// A new client's redirect URIs add CORS origins (and a lookup of its
	// id may be negatively cached).
	r.changed(ctx, cl.ID)
	return cl, secret, nil
}

// RotateSecret replaces a confidential client's secret and returns the new
// one; the old one stops working at once. A *store.ValidationError for a
// public client.
func (r *Registry) RotateSecret(ctx context.Context, id string) (*store.Client, string, error) {
	cl, err := r.cfg.Store.GetClient(ctx, id)
	if err != nil {
		return nil, "", err
	}
	if cl.Public {
		return nil, "", store.Invalid("a public client has no secret")
	}
	if !HasSecret(cl) {
		return nil, "", store.Invalid("a " + AuthMethodOf(cl) + " client has no secret")
	}
	secret, err := r.newSecret()
	if err != nil {
		return nil, "", err
	}
	cl.SecretDigest = r.cfg.Hasher.Digest([]byte(secret))
	if err := r.commit(ctx, "client.secret_rotated", id, nil,
		func(ctx context.Context) error { return r.cfg.Store.UpdateClient(ctx, cl) }); err != nil {
		return nil, "", err
	}
	r.changed(ctx, id)
	return cl, secret, nil
}

// Update replaces a client's settings (not its secret).
func (r *Registry) Update(ctx context.Context, id string, p Params) (*store.Client, error) {
	return r.update(ctx, id, p, nil)
}

// update is Update; prepare, when set, completes the client before it is
// stored (UpdateRegistration keeps its metadata).
func (r *Registry) update(ctx context.Context, id string, p Params, prepare func(*store.Client)) (*store.Client, error) {
	cl, err := r.cfg.Store.GetClient(ctx, id)
	if err != nil {
		return nil, err
	}
	p = p.withDefaults()
	if p.Public != cl.Public {
		return nil, store.Invalid("public cannot be changed after creation")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if !HasSecret(cl) && p.AuthMethod != AuthMethodOf(cl) && p.AuthMethod != AuthPrivateKeyJWT && p.AuthMethod != AuthNone {
		// A secret is only ever made by Create and RotateSecret, which show it.
		return nil, store.Invalid("a " + AuthMethodOf(cl) + " client has no secret to authenticate with " + p.AuthMethod +
			": create a new client for that")
	}
	if p.AuthMethod == AuthPrivateKeyJWT {
		cl.SecretDigest = nil // the secret stops working at once
	}
	cl.AuthMethod, cl.JWKS, cl.JWKSURI = p.AuthMethod, p.JWKS, p.JWKSURI
	cl.Profile, cl.LogoURI = p.Profile, p.LogoURI
	cl.Name, cl.GrantTypes, cl.Scopes, cl.RedirectURIs = p.Name, p.GrantTypes, p.Scopes, p.RedirectURIs
	cl.PostLogoutRedirectURIs, cl.Audience, cl.SkipConsent = p.PostLogoutRedirectURIs, p.Audience, p.SkipConsent
	cl.AccessTokenFormat, cl.IDTokenAlg, cl.PKCEOptional = p.AccessTokenFormat, p.IDTokenAlg, p.PKCEOptional
	cl.Resources = p.Resources
	cl.PARRequired = p.PARRequired
	cl.DPoPRequired = p.DPoPRequired
	cl.BackchannelLogoutURI, cl.BackchannelLogoutSessionRequired = p.BackchannelLogoutURI, p.BackchannelLogoutSessionRequired
	cl.MFA = p.MFA
	if prepare != nil {
		prepare(cl)
	}
	if err := r.commit(ctx, "client.updated", id, map[string]any{"name": cl.Name},
		func(ctx context.Context) error { return r.cfg.Store.UpdateClient(ctx, cl) }); err != nil {
		return nil, err
	}
	r.changed(ctx, id)
	return cl, nil
}

// SetDisabled disables a client, or enables it again. A disabled client
// cannot authenticate and every token it holds is inactive (introspection,
// UserInfo, the admin API) on every instance as soon as they hear of the
// change; enabling it makes its unexpired tokens work again.
func (r *Registry) SetDisabled(ctx context.Context, id string, disabled bool) (*store.Client, error) {
	cl, err := r.cfg.Store.GetClient(ctx, id)
	if err != nil {
		return nil, err
	}
	typ := "client.enabled"
	if disabled {
		typ = "client.disabled"
	}
	if err := r.commit(ctx, typ, id, nil, func(ctx context.Context) error {
		if cl.Disabled == disabled {
			return nil
		}
		cl.Disabled = disabled
		return r.cfg.Store.UpdateClient(ctx, cl)
	}); err != nil {
		return nil, err
	}
	r.changed(ctx, id)
	return cl, nil
}

// Delete removes a client.
func (r *Registry) Delete(ctx context.Context, id string) error {
	if err := r.commit(ctx, "client.deleted", id, nil,
		func(ctx context.Context) error { return r.cfg.Store.DeleteClient(ctx, id) }); err != nil {
		return err
	}
	r.changed(ctx, id)
	return nil
}

func (r *Registry) newSecret() (string, error) {
	b := make([]byte, SecretBytes)
	if _, err := io.ReadFull(r.cfg.Rand, b); err != nil {
		return "", fmt.Errorf("clients: read random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (r *Registry) changed(ctx context.Context, id string) {
	if r.cfg.OnChange != nil {
		r.cfg.OnChange(ctx, id)
	}
}

// commit makes write and records its event in one transaction: neither
// happens without the other.
func (r *Registry) commit(ctx context.Context, typ, subject string, data map[string]any, write func(ctx context.Context) error) error {
	if r.cfg.Auditor == nil {
		return write(ctx)
	}
	return r.cfg.Auditor.Atomic(ctx, func(ctx context.Context) error {
		if err := write(ctx); err != nil {
			return err
		}
		return r.cfg.Auditor.Record(ctx, typ, subject, data)
	})
}
