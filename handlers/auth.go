package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/treue/treue/models"
)

// TokenAuthenticator resolves bearer tokens.
type TokenAuthenticator interface {
	Authenticate(ctx context.Context, token string) (*models.Token, error)
}

const ctxToken = "token"

// require admits requests with a live bearer token whose role allows need:
// 401 without a valid token, 403 with one of the wrong role.
func (s *server) require(need models.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		tok, ok := bearerToken(c.GetHeader("Authorization"))
		if !ok {
			c.Header("WWW-Authenticate", `Bearer realm="treue"`)
			writeProblem(c, Problem{Type: problemType("unauthorized"), Status: http.StatusUnauthorized,
				Detail: "An API token is required: Authorization: Bearer <token> (create one with `treue tokens create`)."})
			return
		}
		t, err := s.Tokens.Authenticate(c.Request.Context(), tok)
		if errors.Is(err, models.ErrNotFound) {
			c.Header("WWW-Authenticate", `Bearer realm="treue", error="invalid_token"`)
			writeProblem(c, Problem{Type: problemType("unauthorized"), Status: http.StatusUnauthorized,
				Detail: "The API token is invalid, expired or revoked."})
			return
		}
		if err != nil {
			s.writeError(c, err)
			return
		}
		if !t.Role.Allows(need) {
			writeProblem(c, Problem{Type: problemType("forbidden"), Status: http.StatusForbidden,
				Detail: "This token's role (" + string(t.Role) + ") may not do this; it needs " + string(need) + "."})
			return
		}
		c.Set(ctxToken, t)
		c.Next()
	}
}

// bearerToken returns the token of an Authorization header of the Bearer
// scheme. Schemes are case-insensitive (RFC 9110, section 11.1), so "bearer"
// and "BEARER" count; one or more spaces may separate scheme and token.
func bearerToken(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

func tokenOf(c *gin.Context) *models.Token {
	t, _ := c.Get(ctxToken)
	tok, _ := t.(*models.Token)
	return tok
}
