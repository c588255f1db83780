package handlers

import (
	"fmt"
	"net/http"
	"regexp"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
)

const ctxRequestID = "request_id"

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// requestID takes a sane X-Request-Id from the caller or makes one, and echoes it.
func requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-Id")
	if !requestIDRE.MatchString(id) {
		id = uuid.NewString()
	}
	c.Set(ctxRequestID, id)
	c.Header("X-Request-Id", id)
	c.Next()
}

// recovery turns a panic into a 500 problem and logs the stack once.
func (s *server) recovery(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			s.log.ErrorContext(c.Request.Context(), "panic", "request_id", c.GetString(ctxRequestID), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			if !c.Writer.Written() {
				writeProblem(c, Problem{Type: problemType("internal"), Status: http.StatusInternalServerError, Detail: "Internal error; the request id identifies it in Treue's log."})
			}
		}
	}()
	c.Next()
}

// accessLog writes one structured line per request. It logs the path, never
// the query string or body (they can carry customer data).
func (s *server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	s.log.InfoContext(c.Request.Context(), "http request",
		"request_id", c.GetString(ctxRequestID), "method", c.Request.Method, "route", c.FullPath(),
		"path", c.Request.URL.Path, "status", c.Writer.Status(), "bytes", c.Writer.Size(),
		"duration_ms", float64(time.Since(start).Microseconds())/1000, "client_ip", c.ClientIP())
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	webhooks *prometheus.CounterVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "treue_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "treue_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route", "method"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "treue_webhooks_total", Help: "Webhook deliveries by platform and outcome.",
		}, []string{"platform", "outcome"}),
	}
	reg.MustRegister(m.requests, m.duration, m.webhooks)
	return m
}

// measure records per-route metrics. The route template (not the raw path)
// keeps label cardinality bounded.
func (s *server) measure(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	s.metrics.requests.WithLabelValues(route, c.Request.Method, fmt.Sprint(c.Writer.Status())).Inc()
	s.metrics.duration.WithLabelValues(route, c.Request.Method).Observe(time.Since(start).Seconds())
}
