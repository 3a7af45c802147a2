package admin

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/admin/webhooks"
	"github.com/keyward/keyward/store"
)

// listAuditEvents is GET /audit-events: oldest first (by created_at,
// then id), or newest first with order=desc; type (exact, or a
// "prefix.*"), actor, subject, since and until (RFC 3339; since ≤
// created_at < until) select the events. Follow next_cursor, with the
// same parameters, to read on. Each item is in the form webhooks deliver
// (webhooks.Event). A bad parameter is a 422 validation problem listing
// every problem.
func (s *Server) listAuditEvents(c *gin.Context) {
	p, ok := listPage(c)
	if !ok {
		return
	}
	if p.Cursor != "" {
		if _, _, err := store.ParseAuditCursor(p.Cursor); err != nil {
			problem(c, http.StatusBadRequest, "bad-request", "cursor is not one this API returned.")
			return
		}
	}
	f, probs := auditFilter(c)
	if probs != nil {
		invalid(c, probs...)
		return
	}
	items, next, err := s.cfg.Store.ListAudit(c.Request.Context(), f, p)
	if err != nil {
		s.fail(c, err)
		return
	}
	renderList(c, mapItems(items, webhooks.NewEvent), next)
}

// auditFilter reads the filter parameters of GET /audit-events and
// returns every problem with them (nil when there is none).
func auditFilter(c *gin.Context) (store.AuditFilter, []string) {
	var (
		f     store.AuditFilter
		probs []string
	)
	q := c.Request.URL.Query()
	one := func(name string) string {
		vs := q[name]
		if len(vs) > 1 {
			probs = append(probs, name+": give it at most once")
		}
		if len(vs) == 0 {
			return ""
		}
		return vs[0]
	}
	switch order := one("order"); order {
	case "", "asc":
	case "desc":
		f.Desc = true
	default:
		probs = append(probs, `order: want "asc" (oldest first, the default) or "desc" (newest first)`)
	}
	f.Type, f.Actor, f.Subject = one("type"), one("actor"), one("subject")
	parseTime := func(name string) time.Time {
		v := one(name)
		if v == "" {
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			probs = append(probs, name+": want an RFC 3339 time such as 2026-12-01T09:00:00Z (send + in an offset as %2B)")
		}
		return t
	}
	f.Since, f.Until = parseTime("since"), parseTime("until")
	var ve *store.ValidationError
	if err := f.Check(); errors.As(err, &ve) {
		probs = append(probs, ve.Problems...)
	}
	return f, probs
}
