package handlers

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openAPIDoc describes the whole HTTP API; TestOpenAPI keeps it in step with
// the registered routes.
//
//go:embed openapi.json
var openAPIDoc []byte

func (s *server) openAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", openAPIDoc)
}
