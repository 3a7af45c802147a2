package authz

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// Mount registers the whole public route table on r.
func (p *Provider) Mount(r gin.IRouter) {
	// CORS: see cors.go for the two policies.
	p.discovery.mount(r)
	r.GET(PathAuthorize, p.browser.authorize)
	r.POST(PathAuthorize, p.browser.authorize)
	r.POST(PathToken, p.clientCORS, p.tokenEndpoint.token)
	r.OPTIONS(PathToken, p.clientPreflight("POST"))
	r.POST(PathPAR, p.clientCORS, p.par.push)
	r.OPTIONS(PathPAR, p.clientPreflight("POST"))
	r.POST(PathIntrospect, p.introspector.introspect)
	r.POST(PathRevoke, p.clientCORS, p.revoke)
	r.OPTIONS(PathRevoke, p.clientPreflight("POST"))
	r.GET(PathUserinfo, p.clientCORS, p.userInfo.serve)
	r.POST(PathUserinfo, p.clientCORS, p.userInfo.serve)
	r.OPTIONS(PathUserinfo, p.clientPreflight("GET, POST"))
	r.GET(PathEndSession, p.browser.logout)
	r.POST(PathEndSession, p.browser.logout)
	r.GET(PathLogin, p.browser.loginPage)
	r.POST(PathLogin, p.browser.login)
	r.GET(PathUpstreamCallback, p.browser.upstream.callback)
	r.POST(PathConsent, p.browser.consent)
	p.mountFactors(r)
	r.GET(PathUIReturn, p.browser.ui.uiReturn)
	r.POST(PathVerifyKey, p.apiKeys.verify)
	r.POST(PathDeviceAuthorization, p.device.authorize)
	r.GET(PathDevice, p.device.page)
	r.POST(PathDevice, p.device.enter)
	r.POST(PathDeviceConsent, p.device.decide)
	r.POST(PathRegister, registrationCORS, p.registration.register)
	r.OPTIONS(PathRegister, registrationPreflight("POST"))
	r.GET(PathRegister+"/:client_id", registrationCORS, p.registration.read)
	r.PUT(PathRegister+"/:client_id", registrationCORS, p.registration.update)
	r.DELETE(PathRegister+"/:client_id", registrationCORS, p.registration.remove)
	r.OPTIONS(PathRegister+"/:client_id", registrationPreflight("GET, PUT, DELETE"))
	// The theme's static files, then the built-in ones, and theme.css.
	static := gin.WrapH(http.StripPrefix("/static", p.browser.pages.theme.StaticHandler()))
	r.GET("/static/*filepath", static)
	r.HEAD("/static/*filepath", static)
	for _, path := range []string{PathToken, PathPAR, PathIntrospect, PathRevoke, PathVerifyKey, PathDeviceAuthorization, PathRegister} {
		for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			r.Handle(m, path, methodNotAllowed)
		}
	}
}

func methodNotAllowed(c *gin.Context) {
	c.Header("Allow", "POST")
	oauthError(c, http.StatusMethodNotAllowed, "invalid_request", "Use POST.")
}
