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
		reportsOff(c)
		return
	}
	periodReport(s, c, reports.ParseRulesPeriod, s.Reports.RulesReport)
}

// reportsOff answers a report this server has no reporter for.
func reportsOff(c *gin.Context) {
	writeProblem(c, Problem{Type: problemType("not-found"), Status: http.StatusNotFound, Detail: "Reports are not enabled."})
}

// periodReport answers a report over the period the query's from and to
// name, 422 naming the field for a bad period.
func periodReport[R any](s *server, c *gin.Context,
	parse func(shop *models.Shop, from, to string, now time.Time) (reports.Period, error),
	run func(ctx context.Context, shop *models.Shop, from, to time.Time) (R, error)) {
	shop, ok := s.shop(c)
	if !ok {
		return
	}
	p, err := parse(shop, c.Query("from"), c.Query("to"), time.Now())
	if err != nil {
		s.writeError(c, err) // a *models.ValidationError: 422 naming the field
		return
	}
	rep, err := run(c.Request.Context(), shop, p.From, p.To)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, rep)
}
