package handlers

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/treue/treue/journey"
	"github.com/treue/treue/models"
	"github.com/treue/treue/reports"
)

// loyaltyTimeout bounds one loyalty report: under http.write_timeout's
// default of 30 s, after which the answer could not be written anyway.
const loyaltyTimeout = 25 * time.Second

const ctxClientContext = "client_context"

// keepClientContext remembers the request's own context before s.deadline
// bounds it by database.request_timeout. That bound is meant for one wait
// on the database; a report waits once per page of customers. The report
// keeps it per query (a frozen database still answers 503 at once) and runs
// as a whole on the client's context, which ends when the client leaves.
func (s *server) keepClientContext(c *gin.Context) {
	c.Set(ctxClientContext, c.Request.Context())
	c.Next()
}

// boundedLoyalty gives every query the report makes the API's database
// bound.
type boundedLoyalty struct {
	src     reports.LoyaltySource
	timeout time.Duration
}

func (b boundedLoyalty) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if b.timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, b.timeout)
}

func (b boundedLoyalty) ShopCustomerIDs(ctx context.Context, shopID int64) ([]int64, error) {
	ctx, cancel := b.bound(ctx)
	defer cancel()
	return b.src.ShopCustomerIDs(ctx, shopID)
}

func (b boundedLoyalty) LoyaltyJourneys(ctx context.Context, customerIDs []int64) ([]models.LoyaltyJourney, error) {
	ctx, cancel := b.bound(ctx)
	defer cancel()
	return b.src.LoyaltyJourneys(ctx, customerIDs)
}

// reportLoyalty answers GET /api/v1/shops/{shop}/reports/loyalty?from&to:
// the shop's loyalty figures for the period (reports.Loyalty).
func (s *server) reportLoyalty(c *gin.Context) {
	if s.Loyalty == nil {
		writeProblem(c, Problem{Type: problemType("not-found"), Status: http.StatusNotFound, Detail: "The loyalty report is not enabled."})
		return
	}
	shop, ok := s.shop(c)
	if !ok {
		return
	}
	now := time.Now()
	period, err := reports.ParseLoyaltyPeriod(shop, c.Query("from"), c.Query("to"), now)
	if err != nil {
		s.writeError(c, err)
		return
	}
	v, _ := c.Get(ctxClientContext)
	ctx, _ := v.(context.Context)
	if ctx == nil {
		ctx = c.Request.Context()
	}
	ctx, cancel := context.WithTimeout(ctx, loyaltyTimeout)
	defer cancel()
	start := time.Now()
	rep := &reports.LoyaltyReport{Source: boundedLoyalty{s.Loyalty, s.DBTimeout}, Options: journey.DefaultOptions}
	figures, err := rep.Run(ctx, shop, period, now)
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		s.log.WarnContext(ctx, "loyalty report timed out", "request_id", c.GetString(ctxRequestID), "shop", shop.Key,
			"from", period.From.Format(time.DateOnly), "to", period.To.Format(time.DateOnly), "duration_ms", time.Since(start).Milliseconds())
		// No Retry-After: the same report would take as long again.
		writeProblem(c, Problem{Type: problemType("unavailable"), Status: http.StatusServiceUnavailable,
			Detail: "The loyalty figures take longer than " + loyaltyTimeout.String() + " to compute; choose a shorter period, or run treue report loyalty."})
		return
	}
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, figures)
}
