package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/keyward/keyward/admin/webhooks"
	"github.com/keyward/keyward/store"
)

// Webhooks makes the changes to webhooks (webhooks.Dispatcher): each in one
// transaction with its audit event, shared with the console.
type Webhooks interface {
	Create(ctx context.Context, w *store.Webhook) (secret string, err error)
	Update(ctx context.Context, id string, edit func(*store.Webhook) error) (*store.Webhook, error)
	Delete(ctx context.Context, id string) error
	RotateSecret(ctx context.Context, id string, overlap time.Duration) (*store.Webhook, string, error)
	Redeliver(ctx context.Context, id, eventID string, since time.Time) (int, error)
	SendTest(ctx context.Context, id string) error
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
	secret, err := s.cfg.Webhooks.Create(c.Request.Context(), w)
	if err != nil {
		s.fail(c, err)
		return
	}
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
	w, err := s.cfg.Webhooks.Update(c.Request.Context(), c.Param("id"), func(w *store.Webhook) error {
		in.apply(w)
		if probs := validateWebhook(w); len(probs) > 0 {
			return &store.ValidationError{Problems: probs}
		}
		return nil
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newWebhookView(w, ""))
}

// deleteWebhook is DELETE /webhooks/{id}: 204. Its deliveries and their
// log go with it.
func (s *Server) deleteWebhook(c *gin.Context) {
	if err := s.cfg.Webhooks.Delete(c.Request.Context(), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// rotateWebhookSecret is POST /webhooks/{id}/rotate-secret, body
// {"overlap": "24h"} (optional): a new signing secret, shown this once.
// Deliveries carry signatures with both the new and the previous secret
// for the overlap ("0s": none), so receivers can switch without missing
// one.
func (s *Server) rotateWebhookSecret(c *gin.Context) {
	var in struct {
		Overlap *duration `json:"overlap"`
	}
	if !bind(c, &in) {
		return
	}
	overlap := webhooks.DefaultSecretOverlap
	if in.Overlap != nil {
		overlap = time.Duration(*in.Overlap)
	}
	if overlap < 0 || overlap > webhooks.MaxSecretOverlap {
		invalid(c, "overlap: between 0s and 30d")
		return
	}
	w, secret, err := s.cfg.Webhooks.RotateSecret(c.Request.Context(), c.Param("id"), overlap)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newWebhookView(w, secret))
}

// listDeliveries is GET /webhooks/{id}/deliveries: the delivery log,
// newest first, in pages.
func (s *Server) listDeliveries(c *gin.Context) {
	p, ok := listPage(c)
	if !ok {
		return
	}
	ctx, id := c.Request.Context(), c.Param("id")
	if _, err := s.cfg.Store.GetWebhook(ctx, id); err != nil {
		s.fail(c, err)
		return
	}
	items, next, err := s.cfg.Store.ListDeliveries(ctx, id, p)
	if err != nil {
		s.fail(c, err)
		return
	}
	renderList(c, mapItems(items, newDeliveryView), next)
}

// getDelivery is GET /webhooks/{id}/deliveries/{delivery}: one delivery
// with every attempt.
func (s *Server) getDelivery(c *gin.Context) {
	ctx := c.Request.Context()
	n, err := strconv.ParseInt(c.Param("delivery"), 10, 64)
	if err != nil || n <= 0 {
		s.fail(c, store.ErrNotFound)
		return
	}
	d, err := s.cfg.Store.GetDelivery(ctx, c.Param("id"), n)
	if err != nil {
		s.fail(c, err)
		return
	}
	atts, err := s.cfg.Store.ListAttempts(ctx, d.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	v := newDeliveryView(d)
	v.AttemptsLog = mapItems(atts, newAttemptView)
	c.JSON(http.StatusOK, v)
}

// redeliver is POST /webhooks/{id}/redeliver, body {"event_id": "…"} or
// {"since": "<RFC 3339>"}: queues the event, or every event since then
// that the webhook selects, again (the same webhook-id each), and
// answers 202 with how many.
func (s *Server) redeliver(c *gin.Context) {
	var in struct {
		EventID *string    `json:"event_id"`
		Since   *time.Time `json:"since"`
	}
	if !bind(c, &in) {
		return
	}
	if (in.EventID == nil) == (in.Since == nil) || in.EventID != nil && *in.EventID == "" {
		invalid(c, "give either event_id or since")
		return
	}
	ctx, id := c.Request.Context(), c.Param("id")
	var (
		eventID string
		since   time.Time
	)
	if in.EventID != nil {
		eventID = *in.EventID
	} else {
		since = *in.Since
	}
	n, err := s.cfg.Webhooks.Redeliver(ctx, id, eventID, since)
	if errors.Is(err, store.ErrNotFound) && eventID != "" {
		if _, werr := s.cfg.Store.GetWebhook(ctx, id); werr == nil {
			invalid(c, fmt.Sprintf("event_id %q: no such event", eventID))
			return
		}
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"queued": n})
}

// testWebhook is POST /webhooks/{id}/test: records a webhook.test event,
// delivered to this webhook only (whatever its event types), and answers
// 202 with the event's id; its delivery shows in the log.
func (s *Server) testWebhook(c *gin.Context) {
	if !bind(c, &struct{}{}) {
		return
	}
	if err := s.cfg.Webhooks.SendTest(c.Request.Context(), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"sent": true})
}
