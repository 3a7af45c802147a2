package admin

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPIDoc is the OpenAPI 3.1 description of the API; a test checks that
// it names exactly the routes apiEngine registers.
//
//go:embed openapi.json
var openAPIDoc []byte

// openAPI is GET /admin/v1/openapi.json, served without authentication:
// it describes the API and holds no data.
func (s *Server) openAPI(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "application/json", openAPIDoc)
}
