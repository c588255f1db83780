// Package handlers is Treue's HTTP surface: routes, middleware, problem+json
// errors. Gin lives only here.
package handlers

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/treue/treue/handlers/console"
	"github.com/treue/treue/models"
	"github.com/treue/treue/plugin"
	"github.com/treue/treue/reports"
	"github.com/treue/treue/webhooks/inbox"
)

// Health is what /readyz checks.
type Health interface {
	Ping(ctx context.Context) error
	CheckSchema(ctx context.Context) error
}

// WebhookIntake stores verified deliveries.
type WebhookIntake interface {
	Receive(ctx context.Context, platform models.Platform, d *plugin.Delivery) (inbox.Result, error)
}

// ShopwareRegistrar runs the Shopware app registration handshake.
type ShopwareRegistrar interface {
	Register(ctx context.Context, rawQuery string, h http.Header) (any, error)
	Confirm(ctx context.Context, h http.Header, body []byte) error
}

// Config is everything the HTTP layer needs; nil optional parts disable routes.
type Config struct {
	Log      *slog.Logger
	Registry *prometheus.Registry
	Health   Health
	Intake   WebhookIntake
	Shopware ShopwareRegistrar // nil: Shopware app not configured
	// AdobeChallenge reads the I/O Events handshake's challenge, or says
	// what is wrong with it.
	AdobeChallenge func(rawQuery string) (string, error)
	Rules          RulesSource
	Tokens         TokenAuthenticator
	// Customers reads customers for support (support.Service): search,
	// profile, timeline and export.
	Customers CustomerReader
	Privacy   PrivacyService
	Actions   ActionAdmin
	// Points returns a customer's ledger balance and tier (nil: from the profile).
	Points         func(ctx context.Context, shopID, customerID int64) (int64, string, error)
	MaxBodyBytes   int64
	TrustedProxies []string
	// DBTimeout bounds what a request waits for the database (0: no bound).
	DBTimeout time.Duration
	// Dispatch explains the waiting actions of the actions list (nil: no
	// explanation); Customers explains those of the timeline.
	Dispatch DispatchState
	// Shops lists the shops for the console's shop field.
	Shops ShopLister
	// Reports computes the rules report (nil: the route answers 404).
	Reports RulesReporter
	// AuthFailures limits failed webhook authentications per client
	// address (the zero value: no limit).
	AuthFailures AuthFailureLimit
	// Loyalty reads the journeys behind the loyalty figures (nil: 404).
	Loyalty reports.LoyaltySource

	// Budget computes the budget report (nil: the route answers 404).
	Budget BudgetReporter
}

type server struct {
	Config
	log      *slog.Logger
	metrics  *httpMetrics
	failures *failureLimiter
}

// New builds the Gin engine with every route.
func New(cfg Config) (*gin.Engine, error) {
	gin.SetMode(gin.ReleaseMode)
	s := &server{Config: cfg, log: cfg.Log, metrics: newHTTPMetrics(cfg.Registry), failures: newFailureLimiter(cfg.AuthFailures, cfg.Log)}
	r := gin.New()
	r.HandleMethodNotAllowed = true
	if err := r.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, err
	}
	r.Use(s.recovery, requestID, s.accessLog, s.measure)
	r.NoRoute(func(c *gin.Context) {
		writeProblem(c, Problem{Type: problemType("not-found"), Status: http.StatusNotFound, Detail: "No route for " + c.Request.Method + " " + c.Request.URL.Path + "."})
	})
	r.NoMethod(func(c *gin.Context) {
		writeProblem(c, Problem{Type: problemType("method-not-allowed"), Status: http.StatusMethodNotAllowed, Detail: "Method " + c.Request.Method + " is not allowed here."})
	})

	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", s.deadline, s.ready)
	r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{})))

	wh := r.Group("/webhooks")
	wh.POST("/standard/:shop", s.webhook(models.PlatformStandard))
	wh.POST("/shopware", s.webhook(models.PlatformShopware))
	wh.POST("/shopify", s.webhook(models.PlatformShopify))
	wh.POST("/adobe/:shop", s.webhook(models.PlatformAdobe))
	wh.GET("/adobe/:shop", s.adobeChallenge)

	api := r.Group("/api/v1", s.deadline)
	api.GET("/openapi.json", s.openAPI)
	support := api.Group("", s.require(models.RoleSupport))
	support.GET("/me", s.whoami)
	support.GET("/shops", s.listShops)
	support.GET("/shops/:shop/customers", s.searchCustomers)
	support.GET("/shops/:shop/customers/:id", s.getCustomer)
	support.GET("/shops/:shop/customers/:id/timeline", s.getTimeline)
	support.GET("/shops/:shop/customers/:id/export", s.getExport)
	support.POST("/shops/:shop/customers/:id/opt-outs", s.postOptOut)
	support.DELETE("/shops/:shop/customers/:id/opt-outs", s.deleteOptOut)
	support.GET("/shops/:shop/actions", s.listActions)
	// Reports read a shop's whole period: they get longer than a request
	// on the hot path to wait for the database.
	rep := r.Group("/api/v1", s.reportDeadline, s.require(models.RoleSupport))
	rep.GET("/shops/:shop/reports/rules", s.rulesReport)
	rep.GET("/shops/:shop/reports/budget", s.budgetReport)
	r.GET("/api/v1/shops/:shop/reports/loyalty", s.keepClientContext, s.deadline, s.require(models.RoleSupport), s.reportLoyalty)
	admin := api.Group("", s.require(models.RoleAdmin))
	admin.GET("/rules", s.getRules)
	admin.DELETE("/shops/:shop/customers/:id", s.deleteCustomer)
	admin.POST("/actions/:id/retry", s.retryAction)
	admin.POST("/actions/:id/cancel", s.cancelAction)

	con := gin.WrapH(console.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveProblem(w, r, Problem{Type: problemType("not-found"), Status: http.StatusNotFound, Detail: "The console has no file " + r.URL.Path + "."})
	})))
	r.GET("/console/*path", con)
	r.HEAD("/console/*path", con)

	r.GET("/shopware/register", s.deadline, s.shopwareRegister)
	r.POST("/shopware/confirm", s.deadline, s.shopwareConfirm)
	return r, nil
}

// dbContext bounds ctx by DBTimeout.
func (s *server) dbContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.DBTimeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.DBTimeout)
}

// deadline bounds what the rest of the request waits for the database.
func (s *server) deadline(c *gin.Context) {
	ctx, cancel := s.dbContext(c.Request.Context())
	defer cancel()
	c.Request = c.Request.WithContext(ctx)
	c.Next()
}

// reportTimeout bounds a report's wait for the database.
const reportTimeout = 25 * time.Second // under http.write_timeout (30 s)

func (s *server) reportDeadline(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), reportTimeout)
	defer cancel()
	c.Request = c.Request.WithContext(ctx)
	c.Next()
}

func (s *server) ready(c *gin.Context) {
	ctx := c.Request.Context()
	if err := s.Health.Ping(ctx); err != nil {
		s.log.WarnContext(ctx, "not ready: database", "err", err)
		writeProblem(c, Problem{Type: problemType("not-ready"), Status: http.StatusServiceUnavailable, Detail: "The database is not reachable."})
		return
	}
	if err := s.Health.CheckSchema(ctx); err != nil {
		writeProblem(c, Problem{Type: problemType("not-ready"), Status: http.StatusServiceUnavailable, Detail: err.Error()})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

// readBody reads the whole body under the size cap, before anything parses it.
func (s *server) readBody(c *gin.Context) ([]byte, error) {
	r := http.MaxBytesReader(c.Writer, c.Request.Body, s.MaxBodyBytes)
	// The declared length sizes the buffer once (io.ReadAll would grow it
	// from 512 bytes), but only up to 64 KiB: a sender that declares a large
	// body and sends nothing must not make us allocate it.
	size := min(max(c.Request.ContentLength, 0), 64<<10)
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

func (s *server) webhook(p models.Platform) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !requireJSON(c) {
			s.metrics.webhooks.WithLabelValues(string(p), "unsupported_media_type").Inc()
			return
		}
		body, err := s.readBody(c)
		if err != nil {
			s.metrics.webhooks.WithLabelValues(string(p), "too_large").Inc()
			s.writeError(c, err)
			return
		}
		d := &plugin.Delivery{Header: c.Request.Header, Body: body, RawQuery: c.Request.URL.RawQuery, ShopKey: c.Param("shop")}
		// An address that failed to authenticate too often is still heard,
		// but only about shops Treue knows: made-up shop keys then cost no
		// database statement, and a shop's own deliveries from a shared
		// address (a platform's senders, a proxy) still get through.
		client := clientKey(c.ClientIP())
		// The deadline starts once the body is in: a slow upload is the
		// read timeout's business, not the database's.
		ctx, cancel := s.dbContext(c.Request.Context())
		defer cancel()
		limited, _ := s.failures.limited(client)
		if limited {
			ctx = inbox.OnlyKnownShops(ctx)
		}
		res, err := s.Intake.Receive(ctx, p, d)
		if err != nil {
			failed := (errors.Is(err, models.ErrUnauthorized) && !errors.Is(err, models.ErrUnavailable)) || errors.Is(err, inbox.ErrLookupRefused)
			if failed {
				wait := s.failures.fail(client)
				if limited {
					s.metrics.webhooks.WithLabelValues(string(p), "rate_limited").Inc()
					s.tooManyFailures(c, wait)
					return
				}
			}
			s.metrics.webhooks.WithLabelValues(string(p), outcomeOf(err)).Inc()
			s.writeError(c, err)
			return
		}
		s.metrics.webhooks.WithLabelValues(string(p), string(res.Outcome)).Inc()
		s.log.DebugContext(c.Request.Context(), "webhook accepted", "platform", p, "shop", res.Shop,
			"delivery_id", res.DeliveryID, "topic", res.Topic, "outcome", res.Outcome)
		if res.Outcome == inbox.Uninstalled {
			s.log.InfoContext(c.Request.Context(), "app removed from the shop: its secrets and credentials are forgotten", "platform", p, "shop", res.Shop)
		}
		if res.Outcome == inbox.Unparsed {
			s.log.WarnContext(c.Request.Context(), "webhook stored unparsed", "platform", p, "shop", res.Shop,
				"delivery_id", res.DeliveryID, "topic", res.Topic, "err", res.Problem)
			// 2xx all the same: a sender drops a delivery answered 4xx for
			// good, and this one is authentic. The body says what is wrong.
			body := gin.H{"status": res.Outcome, "delivery_id": res.DeliveryID, "detail": res.Problem.Error() +
				" (stored; fix the mapping or the sender, then run treue inbox replay)"}
			var ve *models.ValidationError
			if errors.As(res.Problem, &ve) {
				body["errors"] = ve.Fields
			}
			c.JSON(http.StatusOK, body)
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": res.Outcome, "delivery_id": res.DeliveryID})
	}
}

// tooManyFailures answers 429 for an address out of failed authentications.
// It says no more than 401 would: not whether the shop exists.
func (s *server) tooManyFailures(c *gin.Context, wait time.Duration) {
	secs := max(1, int64(math.Ceil(wait.Seconds())))
	c.Header("Retry-After", strconv.FormatInt(secs, 10))
	writeProblem(c, Problem{Type: problemType("too-many-requests"), Status: http.StatusTooManyRequests,
		Detail: "Too many deliveries from this address could not be authenticated; retry in " + itoa(secs) + " s."})
}

func outcomeOf(err error) string {
	var ve *models.ValidationError
	var me *models.MalformedError
	switch {
	case errors.As(err, &me):
		return "malformed"
	case errors.As(err, &ve):
		return "invalid"
	case errors.Is(err, models.ErrUnauthorized):
		return "unauthorized"
	case errors.Is(err, models.ErrUnavailable):
		return "unavailable"
	case errors.Is(err, models.ErrNotFound):
		return "not_found"
	}
	return "error"
}

func (s *server) adobeChallenge(c *gin.Context) {
	if s.AdobeChallenge == nil {
		writeProblem(c, Problem{Type: problemType("not-found"), Status: http.StatusNotFound, Detail: "Adobe I/O Events are not enabled."})
		return
	}
	challenge, err := s.AdobeChallenge(c.Request.URL.RawQuery)
	if err != nil {
		msg := err.Error()
		writeProblem(c, Problem{Type: problemType("validation"), Status: http.StatusBadRequest,
			Detail: "The Adobe I/O Events handshake was refused: " + msg + ".", Errors: []models.FieldError{{Field: "challenge", Message: msg}}})
		return
	}
	c.JSON(http.StatusOK, gin.H{"challenge": challenge})
}

func (s *server) shopwareRegister(c *gin.Context) {
	if s.Shopware == nil {
		writeProblem(c, Problem{Type: problemType("not-found"), Status: http.StatusNotFound, Detail: "The Shopware app is not configured (shopware.app_name, shopware.app_secret)."})
		return
	}
	resp, err := s.Shopware.Register(c.Request.Context(), c.Request.URL.RawQuery, c.Request.Header)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, resp)
}

func (s *server) shopwareConfirm(c *gin.Context) {
	if s.Shopware == nil {
		writeProblem(c, Problem{Type: problemType("not-found"), Status: http.StatusNotFound, Detail: "The Shopware app is not configured (shopware.app_name, shopware.app_secret)."})
		return
	}
	body, err := s.readBody(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	if err := s.Shopware.Confirm(c.Request.Context(), c.Request.Header, body); err != nil {
		s.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
