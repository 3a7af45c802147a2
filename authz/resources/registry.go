package resources

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/keyward/keyward/store"
)

// Channel is the events channel on which a change to the resources is
// announced, so every instance reloads its snapshot.
const Channel = "keyward_resources"

// Config is what a Registry needs. Store and NewID are required.
type Config struct {
	Store store.ResourceStore
	NewID func() string
	// Auditor records resource.* events (nil: none are recorded).
	Auditor *store.Auditor
	// OnChange is called after a resource is created, changed or deleted,
	// so every instance reloads (nil: nothing is called).
	OnChange func(ctx context.Context)
}

// Registry creates and manages resources. Its methods return
// store.ErrNotFound for an unknown resource, store.ErrConflict for a URI
// another resource has, and a *store.ValidationError for settings that
// fail Params.Validate.
type Registry struct{ cfg Config }

// NewRegistry checks cfg; it does no I/O.
func NewRegistry(cfg Config) (*Registry, error) {
	if cfg.Store == nil || cfg.NewID == nil {
		return nil, errors.New("resources: Store and NewID are required")
	}
	return &Registry{cfg: cfg}, nil
}

// Create validates p and stores a new resource.
func (r *Registry) Create(ctx context.Context, p Params) (*store.Resource, error) {
	p = p.normalized()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	res := &store.Resource{ID: r.cfg.NewID(), URI: p.URI, Name: p.Name, Scopes: p.Scopes}
	if err := r.cfg.Store.CreateResource(ctx, res); err != nil {
		return nil, uriTaken(err, p.URI)
	}
	r.changed(ctx)
	r.audit(ctx, "resource.created", res)
	return res, nil
}

// Update replaces a resource's settings. Tokens already issued for its
// old URI keep that aud until they expire.
func (r *Registry) Update(ctx context.Context, id string, p Params) (*store.Resource, error) {
	res, err := r.cfg.Store.GetResource(ctx, id)
	if err != nil {
		return nil, err
	}
	p = p.normalized()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	res.URI, res.Name, res.Scopes = p.URI, p.Name, p.Scopes
	if err := r.cfg.Store.UpdateResource(ctx, res); err != nil {
		return nil, uriTaken(err, p.URI)
	}
	r.changed(ctx)
	r.audit(ctx, "resource.updated", res)
	return res, nil
}

// Get returns the resource with id, or with that URI when ref is not an
// id: the CLI takes either.
func (r *Registry) Get(ctx context.Context, ref string) (*store.Resource, error) {
	res, err := r.cfg.Store.GetResource(ctx, ref)
	if errors.Is(err, store.ErrNotFound) && strings.Contains(ref, ":") {
		return r.cfg.Store.GetResourceByURI(ctx, ref)
	}
	return res, err
}

// Delete removes the resource with id (or URI, as Get). Clients stop
// being able to ask for it at once; tokens already issued for it keep
// their aud until they expire, and refreshing them for it fails.
func (r *Registry) Delete(ctx context.Context, ref string) (*store.Resource, error) {
	res, err := r.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	if err := r.cfg.Store.DeleteResource(ctx, res.ID); err != nil {
		return nil, err
	}
	r.changed(ctx)
	r.audit(ctx, "resource.deleted", res)
	return res, nil
}

func uriTaken(err error, uri string) error {
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("%w: a resource with uri %q exists", store.ErrConflict, uri)
	}
	return err
}

func (r *Registry) changed(ctx context.Context) {
	if r.cfg.OnChange != nil {
		r.cfg.OnChange(ctx)
	}
}

func (r *Registry) audit(ctx context.Context, typ string, res *store.Resource) {
	if r.cfg.Auditor != nil {
		_ = r.cfg.Auditor.Record(ctx, typ, res.ID, map[string]any{
			"uri": res.URI, "name": res.Name, "scope": strings.Join(res.Scopes, " ")})
	}
}
