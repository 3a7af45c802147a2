package authz

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/web"
)

// Mount registers the whole public route table on r.
func (p *Provider) Mount(r gin.IRouter) {
	r.GET(PathOIDCConfig, p.serveDiscovery(func() []byte { return p.oidcDiscovery }))
	r.GET(PathOAuthConfig, p.serveDiscovery(func() []byte { return p.oauthDiscovery }))
	if p.cfg.JWKS != nil {
		r.GET(PathJWKS, gin.WrapH(p.cfg.JWKS))
		r.HEAD(PathJWKS, gin.WrapH(p.cfg.JWKS))
	}
	r.GET(PathAuthorize, p.authorize)
	r.POST(PathAuthorize, p.authorize)
	r.POST(PathToken, p.token)
	r.POST(PathIntrospect, p.introspect)
	r.POST(PathRevoke, p.revoke)
	r.GET(PathUserinfo, p.userinfo)
	r.POST(PathUserinfo, p.userinfo)
	r.GET(PathEndSession, p.logout)
	r.POST(PathEndSession, p.logout)
	r.GET(PathLogin, p.loginPage)
	r.POST(PathLogin, p.login)
	r.POST(PathConsent, p.consent)
	r.POST(PathVerifyKey, p.verifyAPIKey)
	r.StaticFS("/static", http.FS(web.Static()))
	for _, path := range []string{PathToken, PathIntrospect, PathRevoke, PathVerifyKey} {
		for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			r.Handle(m, path, methodNotAllowed)
		}
	}
}

func methodNotAllowed(c *gin.Context) {
	c.Header("Allow", "POST")
	oauthError(c, http.StatusMethodNotAllowed, "invalid_request", "Use POST.")
}
