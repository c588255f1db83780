package handlers

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/treue/treue/models"
)

// ShopLister lists the shops Treue serves.
type ShopLister interface {
	ListShops(ctx context.Context) ([]*models.Shop, error)
}

type shopResponse struct {
	Key      string `json:"key"`
	Name     string `json:"name"`
	Platform string `json:"platform"`
	// Timezone is the IANA zone the shop's times are shown in ("UTC" when unset).
	Timezone string `json:"timezone"`
	Currency string `json:"currency,omitempty"`
}

// listShops answers the shops a token may look at: every shop (tokens are
// not scoped to shops). Never their secrets.
func (s *server) listShops(c *gin.Context) {
	if s.Shops == nil {
		c.JSON(http.StatusOK, gin.H{"shops": []shopResponse{}})
		return
	}
	shops, err := s.Shops.ListShops(c.Request.Context())
	if err != nil {
		s.writeError(c, err)
		return
	}
	out := make([]shopResponse, 0, len(shops))
	for _, sh := range shops {
		tz := sh.Timezone
		if tz == "" {
			tz = "UTC"
		}
		out = append(out, shopResponse{Key: sh.Key, Name: sh.Name, Platform: string(sh.Platform), Timezone: tz, Currency: sh.Currency})
	}
	c.JSON(http.StatusOK, gin.H{"shops": out})
}

// whoami tells the console at sign-in whether its token works, and as whom.
func (s *server) whoami(c *gin.Context) {
	t := tokenOf(c)
	c.JSON(http.StatusOK, gin.H{"name": t.Name, "role": t.Role})
}
