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

// reportPeriod reads ?from=&to= (dates, in the shop's time zone; to is
// exclusive), defaulting to the last `days` days up to today; ok is false
// when it has answered a 422.
func reportPeriod(c *gin.Context, shop *models.Shop, days int) (from, to time.Time, ok bool) {
	loc := shop.Location()
	today := time.Now().In(loc)
	to = time.Date(today.Year(), today.Month(), today.Day()+1, 0, 0, 0, 0, loc)
	from = to.AddDate(0, 0, -days)
	var errs []models.FieldError
	parse := func(key string, dst *time.Time) {
		v := c.Query(key)
		if v == "" {
			return
		}
		d, err := time.ParseInLocation(time.DateOnly, v, loc)
		if err != nil {
			errs = append(errs, models.FieldError{Field: key, Message: "must be a date YYYY-MM-DD"})
			return
		}
		*dst = d
	}
	parse("from", &from)
	parse("to", &to)
	if len(errs) == 0 && !from.Before(to) {
		errs = append(errs, models.FieldError{Field: "from", Message: "must be before to"})
	}
	if len(errs) == 0 && to.Sub(from) > 3*366*24*time.Hour {
		errs = append(errs, models.FieldError{Field: "to", Message: "the period may span at most three years"})
	}
	if len(errs) > 0 {
		writeProblem(c, Problem{Type: problemType("validation"), Title: "Unprocessable Content", Status: http.StatusUnprocessableEntity,
			Detail: "from and to are dates YYYY-MM-DD in the shop's time zone, from before to (to is exclusive).", Errors: errs})
		return from, to, false
	}
	return from, to, true
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
	from, to, ok := reportPeriod(c, shop, 90)
	if !ok {
		return
	}
	rep, err := s.Reports.RulesReport(c.Request.Context(), shop, from, to)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, rep)
}
