package admin

import (
	"context"

	"github.com/gin-gonic/gin"
)

type routeKey struct{}

// WithRoute returns a context in which the API notes, into *route, the
// template of the route that serves the request (gin's FullPath on the
// API's own engine, e.g. "/admin/v1/clients/:id"), or "" when no route
// matches. The API runs on an engine of its own (mountAPI), so the server
// around it sees only "/admin/v1/*path": its access log and metrics label
// requests with this template instead, never with the raw path.
func WithRoute(ctx context.Context, route *string) context.Context {
	return context.WithValue(ctx, routeKey{}, route)
}

// noteRoute is the API engine's first middleware: it fills WithRoute's
// *route.
func noteRoute(c *gin.Context) {
	if p, ok := c.Request.Context().Value(routeKey{}).(*string); ok {
		*p = c.FullPath()
	}
}
