package admin

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// Deprecation is the notice a deprecated route of the API sends with
// every answer: the Deprecation header (RFC 9745) with the date the
// route was deprecated, the Sunset header (RFC 8594) with the date after
// which it may be removed, and a Link to what replaces it (rel
// "deprecation", RFC 9745 §3; rel "successor-version" when Successor is
// a route). The policy (docs/ADMIN_API.md, "Deprecation"): a route is
// deprecated for at least 6 months before its sunset, is listed as
// deprecated in openapi.json meanwhile, keeps working until the sunset,
// and only goes away in a release whose notes say so.
type Deprecation struct {
	// Since is when the route was deprecated.
	Since time.Time
	// Sunset is when the route may stop answering (zero: not yet set).
	Sunset time.Time
	// Link is a URL explaining the deprecation (optional).
	Link string
	// Successor is the path that replaces the route (optional).
	Successor string
}

// deprecatedRoutes is the table of deprecated routes, keyed by method and
// route template ("GET /admin/v1/clients/:id"). None is deprecated yet.
func deprecatedRoutes() map[string]Deprecation { return map[string]Deprecation{} }

// deprecations sends the notice of a deprecated route (table, keyed as
// deprecatedRoutes is) with its answer.
func deprecations(table map[string]Deprecation) gin.HandlerFunc {
	return func(c *gin.Context) {
		d, ok := table[c.Request.Method+" "+c.FullPath()]
		if !ok {
			return
		}
		h := c.Writer.Header()
		h.Set("Deprecation", "@"+strconv.FormatInt(d.Since.Unix(), 10))
		if !d.Sunset.IsZero() {
			h.Set("Sunset", d.Sunset.UTC().Format(http.TimeFormat))
		}
		if d.Link != "" {
			h.Add("Link", "<"+d.Link+`>; rel="deprecation"; type="text/html"`)
		}
		if d.Successor != "" {
			h.Add("Link", "<"+d.Successor+`>; rel="successor-version"`)
		}
	}
}
