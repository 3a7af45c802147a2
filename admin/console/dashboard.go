package console

import (
	"context"
	"net/http"
	"strconv"

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
func (cs *Server) dashboard(c *gin.Context) {
	ctx := c.Request.Context()
	recs, err := cs.cfg.Signing.List(ctx)
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
		l, next, err := cs.cfg.APIKeys.List(ctx, store.MaxPageLimit, cur)
		return len(l), next, err
	})
	if err != nil {
		cs.fail(c, err)
		return
	}
	clientsN, err := countPages(ctx, func(ctx context.Context, cur string) (int, string, error) {
		l, next, err := cs.cfg.Store.ListClients(ctx, store.Page{Limit: store.MaxPageLimit, Cursor: cur})
		return len(l), next, err
	})
	if err != nil {
		cs.fail(c, err)
		return
	}
	usersN, err := countPages(ctx, func(ctx context.Context, cur string) (int, string, error) {
		l, next, err := cs.cfg.Store.ListUsers(ctx, store.Page{Limit: store.MaxPageLimit, Cursor: cur})
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
