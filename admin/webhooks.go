package admin

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/keyward/keyward/admin/webhooks"
	"github.com/keyward/keyward/store"
)

// Webhooks is the delivery side of the webhooks resource
// (webhooks.Dispatcher).
type Webhooks interface {
	// NewSecret returns a new signing secret for the webhook id, to show
	// once, and its sealed form, to store.
	NewSecret(id string) (secret string, sealed []byte)
	// Changed tells every instance that the webhooks changed.
	Changed(ctx context.Context)
}

var _ Webhooks = (*webhooks.Dispatcher)(nil)

// newAPIID returns a new time-ordered id (UUIDv7, RFC 9562 §5.7) for the
// records the API creates itself.
func newAPIID() string { return uuid.Must(uuid.NewV7()).String() }

// listWebhooks is GET /webhooks.
func (s *Server) listWebhooks(c *gin.Context) {
	p, ok := listPage(c)
	if !ok {
		return
	}
	items, next, err := s.cfg.Store.ListWebhooks(c.Request.Context(), p)
	if err != nil {
		s.fail(c, err)
		return
	}
	renderList(c, mapItems(items, func(w *store.Webhook) webhookView { return newWebhookView(w, "") }), next)
}

// createWebhook is POST /webhooks: 201 with the signing secret, shown
// this once.
func (s *Server) createWebhook(c *gin.Context) {
	var in webhookInput
	if !bind(c, &in) {
		return
	}
	w := &store.Webhook{ID: newAPIID(), Enabled: true}
	in.apply(w)
	if probs := validateWebhook(w); len(probs) > 0 {
		invalid(c, probs...)
		return
	}
	secret, sealed := s.cfg.Webhooks.NewSecret(w.ID)
	w.Secret = sealed
	ctx := c.Request.Context()
	if err := s.cfg.Store.CreateWebhook(ctx, w); err != nil {
		s.fail(c, err)
		return
	}
	s.cfg.Webhooks.Changed(ctx)
	s.audit(ctx, "webhook.created", w.ID, map[string]any{"url": w.URL, "event_types": w.EventTypes, "enabled": w.Enabled})
	c.Header("Location", c.Request.URL.Path+"/"+w.ID)
	c.JSON(http.StatusCreated, newWebhookView(w, secret))
}

// getWebhook is GET /webhooks/{id}.
func (s *Server) getWebhook(c *gin.Context) {
	w, err := s.cfg.Store.GetWebhook(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newWebhookView(w, ""))
}

// patchWebhook is PATCH /webhooks/{id}: the given fields change.
func (s *Server) patchWebhook(c *gin.Context) {
	var in webhookInput
	if !bind(c, &in) {
		return
	}
	ctx := c.Request.Context()
	w, err := s.cfg.Store.GetWebhook(ctx, c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	in.apply(w)
	if probs := validateWebhook(w); len(probs) > 0 {
		invalid(c, probs...)
		return
	}
	if err := s.cfg.Store.UpdateWebhook(ctx, w); err != nil {
		s.fail(c, err)
		return
	}
	s.cfg.Webhooks.Changed(ctx)
	s.audit(ctx, "webhook.updated", w.ID, map[string]any{"url": w.URL, "event_types": w.EventTypes, "enabled": w.Enabled})
	c.JSON(http.StatusOK, newWebhookView(w, ""))
}

// deleteWebhook is DELETE /webhooks/{id}: 204.
func (s *Server) deleteWebhook(c *gin.Context) {
	ctx, id := c.Request.Context(), c.Param("id")
	if err := s.cfg.Store.DeleteWebhook(ctx, id); err != nil {
		s.fail(c, err)
		return
	}
	s.cfg.Webhooks.Changed(ctx)
	s.audit(ctx, "webhook.deleted", id, nil)
	c.Status(http.StatusNoContent)
}

// rotateWebhookSecret is POST /webhooks/{id}/rotate-secret: a new signing
// secret, shown this once; deliveries use it from now on.
func (s *Server) rotateWebhookSecret(c *gin.Context) {
	if !bind(c, &struct{}{}) {
		return
	}
	ctx := c.Request.Context()
	w, err := s.cfg.Store.GetWebhook(ctx, c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	secret, sealed := s.cfg.Webhooks.NewSecret(w.ID)
	w.Secret = sealed
	if err := s.cfg.Store.UpdateWebhook(ctx, w); err != nil {
		s.fail(c, err)
		return
	}
	s.cfg.Webhooks.Changed(ctx)
	s.audit(ctx, "webhook.secret_rotated", w.ID, nil)
	c.JSON(http.StatusOK, newWebhookView(w, secret))
}
