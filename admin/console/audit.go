package console

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/store"
)

type auditRow struct {
	ID, When, Type, Actor, Subject, Data string
}

// auditLog lists the audit log, oldest first, a page at a time
// (GET /console/audit).
func (cs *Server) auditLog(c *gin.Context) {
	cur, ok := cs.cursorParam(c)
	if !ok {
		return
	}
	list, next, err := cs.cfg.Store.ListAudit(c.Request.Context(), store.Page{Limit: consolePageSize, Cursor: cur})
	if err != nil {
		cs.fail(c, err)
		return
	}
	d := listData[auditRow]{First: cur == ""}
	for _, e := range list {
		row := auditRow{ID: e.ID, When: when(e.CreatedAt), Type: e.Type, Actor: e.Actor, Subject: e.Subject}
		if len(e.Data) > 0 && string(e.Data) != "{}" && string(e.Data) != "null" {
			row.Data = compactJSON(e.Data)
		}
		d.Items = append(d.Items, row)
	}
	if next != "" {
		d.Next = "/console/audit?cursor=" + urlQuery(next)
	}
	cs.render(c, http.StatusOK, "console_audit.html", &view{Title: "Audit log", Section: "audit", D: d})
}

func compactJSON(raw json.RawMessage) string {
	var v map[string]any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return string(raw)
	}
	if len(b) > 500 {
		return strings.ToValidUTF8(string(b[:500]), "") + "…"
	}
	return string(b)
}
