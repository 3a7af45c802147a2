package admin

import (
	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/admin/webhooks"
)

// listAuditEvents is GET /audit-events: oldest first (ids are
// time-ordered); follow next_cursor to read on. Each item is in the form
// webhooks deliver (webhooks.Event).
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
	renderList(c, mapItems(items, webhooks.NewEvent), next)
}
