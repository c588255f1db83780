package handlers

import (
	"context"
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
		reportsOff(c)
		return
	}
	periodReport(s, c, reports.ParseBudgetPeriod, s.Budget.BudgetReport)
}
