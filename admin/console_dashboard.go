package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
)

type countCard struct {
	Label, Count, Link, Hint string
}

type dashboardData struct {
	Cards []countCard
}

// dashboard shows counts and links (GET /console/).
func (cs *console) dashboard(c *gin.Context) {
	ctx := c.Request.Context()
	recs, err := cs.s.cfg.Signing.List(ctx)
	if err != nil {
		cs.fail(c, err)
		return
	}
	var active, published int
	for _, r := range recs {
		if r.State == signing.StateActive {
			active++
		}
		if r.State.Published() && r.RevokedAt.IsZero() {
			published++
		}
	}
	keysN, err := countPages(ctx, func(ctx context.Context, cur string) (int, string, error) {
		l, next, err := cs.s.cfg.APIKeys.List(ctx, store.MaxPageLimit, cur)
		return len(l), next, err
	})
	if err != nil {
		cs.fail(c, err)
		return
	}
	clientsN, err := countPages(ctx, func(ctx context.Context, cur string) (int, string, error) {
		l, next, err := cs.s.cfg.Store.ListClients(ctx, store.Page{Limit: store.MaxPageLimit, Cursor: cur})
		return len(l), next, err
	})
	if err != nil {
		cs.fail(c, err)
		return
	}
	usersN, err := countPages(ctx, func(ctx context.Context, cur string) (int, string, error) {
		l, next, err := cs.s.cfg.Store.ListUsers(ctx, store.Page{Limit: store.MaxPageLimit, Cursor: cur})
		return len(l), next, err
	})
	if err != nil {
		cs.fail(c, err)
		return
	}
	d := dashboardData{Cards: []countCard{
		{"Signing keys", strconv.Itoa(active) + " active", "/console/signing-keys", strconv.Itoa(published) + " in the JWKS"},
		{"API keys", keysN, "/console/apikeys", "create, roll, revoke"},
		{"Clients", clientsN, "/console/clients", "OAuth2 clients"},
		{"Users", usersN, "/console/users", "people who sign in"},
		{"Audit log", "→", "/console/audit", "who changed what"},
	}}
	cs.render(c, http.StatusOK, "console_dashboard.html", &view{Title: "Overview", Section: "overview", D: d})
}

// countPages counts items over at most two pages of a list: beyond that
// the dashboard says "1000+" rather than read everything.
func countPages(ctx context.Context, page func(ctx context.Context, cursor string) (int, string, error)) (string, error) {
	total, cur := 0, ""
	for range 2 {
		n, next, err := page(ctx, cur)
		if err != nil {
			return "", err
		}
		total += n
		if next == "" || next == cur {
			return strconv.Itoa(total), nil
		}
		cur = next
	}
	return strconv.Itoa(total) + "+", nil
}

type auditRow struct {
	ID, When, Type, Actor, Subject, Data string
}

// auditLog lists the audit log, oldest first, a page at a time
// (GET /console/audit).
func (cs *console) auditLog(c *gin.Context) {
	cur, ok := cs.cursorParam(c)
	if !ok {
		return
	}
	list, next, err := cs.s.cfg.Store.ListAudit(c.Request.Context(), store.Page{Limit: consolePageSize, Cursor: cur})
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
