package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/web"
)

// Mount registers the console pages under /console/ on r: the whole
// route table of the console in one function.
func (cs *Server) Mount(r gin.IRouter) {
	r.GET("/console/static/:name", cs.static)
	g := r.Group("/console", cs.common)
	g.GET("/setup", cs.setupPage)
	g.POST("/setup", cs.setup)
	g.GET("/login", cs.loginPage)
	g.POST("/login", cs.login)
	g.POST("/logout", cs.logout)

	a := g.Group("", cs.requireUser)
	a.GET("/", cs.dashboard)
	a.GET("/reveal", cs.revealPage)

	a.GET("/signing-keys", cs.signingKeys)
	a.POST("/signing-keys/rotate", cs.rotateSigningKeys)
	a.POST("/signing-keys/import", cs.importSigningKey)
	a.GET("/signing-keys/:kid/revoke", cs.confirmRevokeSigningKey)
	a.POST("/signing-keys/:kid/revoke", cs.revokeSigningKey)

	a.GET("/apikeys", cs.apiKeys)
	a.GET("/apikeys/new", cs.newAPIKeyPage)
	a.POST("/apikeys", cs.createAPIKey)
	a.GET("/apikeys/:id", cs.apiKey)
	a.POST("/apikeys/:id/roll", cs.rollAPIKey)
	a.GET("/apikeys/:id/revoke", cs.confirmRevokeAPIKey)
	a.POST("/apikeys/:id/revoke", cs.revokeAPIKey)

	a.GET("/clients", cs.clientList)
	a.GET("/clients/new", cs.newClientPage)
	a.POST("/clients", cs.createClient)
	a.GET("/clients/:id", cs.client)
	a.POST("/clients/:id/rotate-secret", cs.rotateClientSecret)
	a.POST("/clients/:id/disable", cs.setClientDisabled(true))
	a.POST("/clients/:id/enable", cs.setClientDisabled(false))
	a.GET("/clients/:id/delete", cs.confirmDeleteClient)
	a.POST("/clients/:id/delete", cs.deleteClient)

	a.GET("/webhooks", cs.webhookList)
	a.POST("/webhooks", cs.createWebhook)
	a.GET("/webhooks/:id", cs.webhook)
	a.POST("/webhooks/:id", cs.updateWebhook)
	a.POST("/webhooks/:id/rotate-secret", cs.rotateWebhookSecret)
	a.POST("/webhooks/:id/test", cs.testWebhook)
	a.POST("/webhooks/:id/redeliver", cs.redeliverWebhook)
	a.GET("/webhooks/:id/deliveries/:delivery", cs.delivery)
	a.GET("/webhooks/:id/delete", cs.confirmDeleteWebhook)
	a.POST("/webhooks/:id/delete", cs.deleteWebhook)

	a.GET("/users", cs.userList)
	a.GET("/users/new", cs.newUserPage)
	a.POST("/users", cs.createUser)
	a.GET("/users/:id", cs.userPage)
	a.POST("/users/:id", cs.editUser)
	a.POST("/users/:id/password", cs.setUserPassword)
	a.POST("/users/:id/status", cs.setUserStatus)
	a.POST("/users/:id/reset-factors", cs.resetUserFactors)
	a.POST("/users/:id/admin", cs.setUserAdmin)
	a.POST("/users/:id/disabled", cs.setUserDisabled)
	a.GET("/users/:id/delete", cs.confirmDeleteUser)
	a.POST("/users/:id/delete", cs.deleteUser)

	a.GET("/audit", cs.auditLog)
	a.GET("/audit/export", cs.exportAudit)

	if cs.cfg.Resources != nil {
		a.GET("/resources", cs.resourceList)
		a.POST("/resources", cs.createResource)
		a.GET("/resources/:id/delete", cs.confirmDeleteResource)
		a.POST("/resources/:id/delete", cs.deleteResource)
	}
	if cs.cfg.Providers != nil {
		a.GET("/providers", cs.providerList)
		a.POST("/providers", cs.createProvider)
		a.POST("/providers/:id/enabled", cs.setProviderEnabled)
		a.GET("/providers/:id/delete", cs.confirmDeleteProvider)
		a.POST("/providers/:id/delete", cs.deleteProvider)
	}
}

// static serves the console's stylesheet and icon.
func (cs *Server) static(c *gin.Context) {
	switch name := c.Param("name"); name {
	case "console.css", "favicon.svg":
		c.Header("X-Content-Type-Options", "nosniff")
		c.Header("Cache-Control", "public, max-age=3600")
		c.FileFromFS(name, http.FS(web.Static()))
	default:
		c.Status(http.StatusNotFound)
	}
}
