package admin

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

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

// webhookView is the JSON form of a webhook; the secret only in the
// answer to a create or a secret rotation.
type webhookView struct {
	ID          string    `json:"id"`
	URL         string    `json:"url"`
	EventTypes  []string  `json:"event_types"`
	Description string    `json:"description"`
	Enabled     bool      `json:"enabled"`
	Secret      string    `json:"secret,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func newWebhookView(w *store.Webhook, secret string) webhookView {
	types := w.EventTypes
	if types == nil {
		types = []string{}
	}
	return webhookView{ID: w.ID, URL: w.URL, EventTypes: types, Description: w.Description,
		Enabled: w.Enabled, Secret: secret, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
}

// webhookInput is the body of POST and PATCH /webhooks.
type webhookInput struct {
	URL         *string   `json:"url"`
	EventTypes  *[]string `json:"event_types"`
	Description *string   `json:"description"`
	Enabled     *bool     `json:"enabled"`
}

const maxEventTypes = 50

var eventTypePattern = regexp.MustCompile(`^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$`)

// validate reports every problem of w.
func validateWebhook(w *store.Webhook) []string {
	var probs []string
	if err := validateWebhookURL(w.URL); err != nil {
		probs = append(probs, fmt.Sprintf("url %q: %v", w.URL, err))
	}
	if len(w.EventTypes) > maxEventTypes {
		probs = append(probs, fmt.Sprintf("event_types: at most %d", maxEventTypes))
	}
	for _, t := range w.EventTypes {
		if len(t) > 100 || !eventTypePattern.MatchString(t) {
			probs = append(probs, fmt.Sprintf("event type %q: want a type such as client.created, a prefix such as client.*, or *", t))
		}
	}
	if len(w.Description) > 500 || !utf8.ValidString(w.Description) {
		probs = append(probs, "description: at most 500 characters of UTF-8")
	}
	return probs
}

// validateWebhookURL accepts https URLs, and http ones only to a loopback
// host (a receiver on the same machine), never with credentials or a
// fragment.
func validateWebhookURL(raw string) error {
	if raw == "" || len(raw) > 2048 {
		return fmt.Errorf("required, at most 2048 characters")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("must be an absolute http(s) URL")
	}
	if u.User != nil {
		return fmt.Errorf("must not hold credentials")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("must not have a fragment")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); h == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
		return fmt.Errorf("http is allowed only to a loopback host; use https")
	}
	return fmt.Errorf("must be https (or http to a loopback host)")
}

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

func (in webhookInput) apply(w *store.Webhook) {
	setIf(&w.URL, in.URL)
	setIf(&w.EventTypes, in.EventTypes)
	setIf(&w.Description, in.Description)
	setIf(&w.Enabled, in.Enabled)
	var types []string
	for _, t := range w.EventTypes {
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	w.EventTypes = types
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
