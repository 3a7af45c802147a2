package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// mountAPI registers the REST API on r (the /admin/v1 group). The API
// runs on an engine of its own, so that every answer under /admin/v1,
// unknown paths and methods included, is problem JSON (RFC 9457) without
// touching the routes of the console or of the server around it.
func (s *Server) mountAPI(r *gin.RouterGroup) {
	h := gin.WrapH(s.apiEngine())
	r.Any("", h)
	r.Any("/*path", h)
}

// apiEngine is the whole route table of the API in one function.
// openapi.json is public (it describes the API and holds no data); every
// other route needs an admin principal, checked before a 404 or a 405 is
// told.
func (s *Server) apiEngine() *gin.Engine {
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.RedirectTrailingSlash, e.RedirectFixedPath = false, false
	e.UseRawPath, e.UnescapePathValues = true, true
	e.ContextWithFallback = true
	e.Use(noteRoute, deprecations(s.deprecated))
	e.Use(gin.CustomRecovery(func(c *gin.Context, err any) {
		s.cfg.Logger.Error("admin API panic", "err", err, "path", c.Request.URL.Path)
		problem(c, http.StatusInternalServerError, "internal", "")
	}), noStore)
	e.NoRoute(s.requireAdmin, func(c *gin.Context) {
		problem(c, http.StatusNotFound, "not-found", "No such resource or route under /admin/v1.")
	})
	e.NoMethod(s.requireAdmin, func(c *gin.Context) {
		problem(c, http.StatusMethodNotAllowed, "method-not-allowed",
			"Allowed methods for this resource: "+c.Writer.Header().Get("Allow")+".")
	})

	v := e.Group("/admin/v1", traceRoute)
	v.GET("/openapi.json", s.openAPI)

	a := v.Group("", s.requireAdmin, sessionJSONOnly, conditional(e))
	post := func(path string, h gin.HandlerFunc) { a.POST(path, s.idempotent, h) }

	a.GET("/clients", s.listClients)
	post("/clients", s.createClient)
	a.GET("/clients/:id", s.getClient)
	a.PUT("/clients/:id", s.replaceClient)
	a.PATCH("/clients/:id", s.patchClient)
	a.DELETE("/clients/:id", s.deleteClient)
	post("/clients/:id/rotate-secret", s.rotateClientSecret)

	a.GET("/users", s.listUsers)
	post("/users", s.createUser)
	a.GET("/users/:id", s.getUser)
	a.PATCH("/users/:id", s.patchUser)
	a.DELETE("/users/:id", s.deleteUser)
	post("/users/:id/reset-factors", s.resetUserFactors)

	a.GET("/apikeys", s.listAPIKeys)
	post("/apikeys", s.createAPIKey)
	a.GET("/apikeys/:id", s.getAPIKey)
	a.PATCH("/apikeys/:id", s.patchAPIKey)
	a.DELETE("/apikeys/:id", s.deleteAPIKey)
	post("/apikeys/:id/roll", s.rollAPIKey)
	post("/apikeys/:id/revoke", s.revokeAPIKey)
	post("/apikeys/:id/disable", s.disableAPIKey)
	post("/apikeys/:id/enable", s.enableAPIKey)

	a.GET("/signing-keys", s.listSigningKeys)
	post("/signing-keys/rotate", s.rotateSigningKeys)
	post("/signing-keys/import", s.importSigningKey)
	a.GET("/signing-keys/:kid", s.getSigningKey)
	post("/signing-keys/:kid/revoke", s.revokeSigningKey)

	a.GET("/audit-events", s.listAuditEvents)

	a.GET("/webhooks", s.listWebhooks)
	post("/webhooks", s.createWebhook)
	a.GET("/webhooks/:id", s.getWebhook)
	a.PATCH("/webhooks/:id", s.patchWebhook)
	a.DELETE("/webhooks/:id", s.deleteWebhook)
	post("/webhooks/:id/rotate-secret", s.rotateWebhookSecret)
	a.GET("/webhooks/:id/deliveries", s.listDeliveries)
	a.GET("/webhooks/:id/deliveries/:delivery", s.getDelivery)
	post("/webhooks/:id/redeliver", s.redeliver)
	post("/webhooks/:id/test", s.testWebhook)

	s.mountResources(a, post)
	s.mountRegistrationTokens(a, post)
	s.mountProviders(a, post)
	s.mountUIRequests(a, post)
	return e
}

// sessionJSONOnly refuses a change made with a console session cookie
// unless it is sent as application/json: an HTML form of another site
// cannot send that without a CORS preflight, which the API never grants.
// (The cookie is SameSite=Strict too; this is the second lock.) Bearer
// tokens are not sent by browsers on their own and need no such check.
func sessionJSONOnly(c *gin.Context) {
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return
	}
	if principalOf(c).User != nil && !isJSON(c.GetHeader("Content-Type")) {
		problem(c, http.StatusUnsupportedMediaType, "unsupported-media",
			"With a console session, changes must be sent as application/json.")
	}
}

// noStore keeps API answers, some of which hold secrets, out of caches.
func noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Next()
}
