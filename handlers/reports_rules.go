package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/treue/treue/models"
	"github.com/treue/treue/reports"
)

// RulesReporter computes the rules report of a shop.
type RulesReporter interface {
	RulesReport(ctx context.Context, shop *models.Shop, from, to time.Time) (*reports.RulesReport, error)
}

func (s *server) rulesReport(c *gin.Context) {
	if s.Reports == nil {
		writeProblem(c, Problem{Type: problemType("not-found"), Status: http.StatusNotFound, Detail: "Reports are not enabled."})
		return
	}
	shop, ok := s.shop(c)
	if !ok {
		return
	}
	p, err := reports.ParseRulesPeriod(shop, c.Query("from"), c.Query("to"), time.Now())
	if err != nil {
		s.writeError(c, err) // a *models.ValidationError: 422 naming the field
		return
	}
	rep, err := s.Reports.RulesReport(c.Request.Context(), shop, p.From, p.To)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, rep)
}
