package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/treue/treue/models"
	"github.com/treue/treue/reports"
)

// BudgetReporter computes the budget report of a shop.
type BudgetReporter interface {
	BudgetReport(ctx context.Context, shop *models.Shop, from, to time.Time) (*reports.BudgetReport, error)
}

func (s *server) budgetReport(c *gin.Context) {
	if s.Budget == nil {
		writeProblem(c, Problem{Type: problemType("not-found"), Status: http.StatusNotFound, Detail: "Reports are not enabled."})
		return
	}
	shop, ok := s.shop(c)
	if !ok {
		return
	}
	p, err := reports.ParseBudgetPeriod(shop, c.Query("from"), c.Query("to"), time.Now())
	if err != nil {
		s.writeError(c, err) // a *models.ValidationError: 422 naming the field
		return
	}
	rep, err := s.Budget.BudgetReport(c.Request.Context(), shop, p.From, p.To)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, rep)
}
