package admin

import (
	"encoding/json"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/store"
)

// auditEventView is the JSON form of an audit event, in the list and in
// webhook deliveries.
type auditEventView struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Actor     string          `json:"actor"`
	Subject   string          `json:"subject"`
	Data      json.RawMessage `json:"data"`
	CreatedAt time.Time       `json:"created_at"`
}

func newAuditEventView(e *store.AuditEvent) auditEventView {
	data := e.Data
	if len(data) == 0 || !json.Valid(data) {
		data = json.RawMessage("{}")
	}
	return auditEventView{ID: e.ID, Type: e.Type, Actor: e.Actor, Subject: e.Subject, Data: data, CreatedAt: e.CreatedAt}
}

// listAuditEvents is GET /audit-events: oldest first (ids are
// time-ordered); follow next_cursor to read on.
func (s *Server) listAuditEvents(c *gin.Context) {
	p, ok := listPage(c)
	if !ok {
		return
	}
	items, next, err := s.cfg.Store.ListAudit(c.Request.Context(), p)
	if err != nil {
		s.fail(c, err)
		return
	}
	renderList(c, mapItems(items, newAuditEventView), next)
}
