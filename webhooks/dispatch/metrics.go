package dispatch

import "github.com/prometheus/client_golang/prometheus"

// Dispatch outcomes, the label of treue_actions_dispatched_total.
const (
	dispatchSent     = "sent"     // the shop carried the action out
	dispatchRetrying = "retrying" // a transient failure; another attempt is planned
	dispatchDead     = "dead"     // permanent failure, attempts exhausted, or nothing to send with
	dispatchReleased = "released" // handed back unattempted (breaker, rate limit, shutdown)
	dispatchLost     = "lease_lost"
)

// Metrics are the dispatcher's metrics.
type Metrics struct {
	// Dispatched counts claimed actions by what became of them.
	Dispatched *prometheus.CounterVec
	// AttemptDuration times calls into shops by outcome (ok, transient, permanent).
	AttemptDuration *prometheus.HistogramVec
}

// NewMetrics registers the dispatcher's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Dispatched: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "treue_actions_dispatched_total", Help: "Claimed actions by outcome: sent, retrying, dead, released, lease_lost.",
		}, []string{"outcome"}),
		AttemptDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "treue_action_attempt_duration_seconds", Help: "Duration of calls into shops by outcome: ok, transient, permanent.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2, 5, 10, 30, 60},
		}, []string{"outcome"}),
	}
	reg.MustRegister(m.Dispatched, m.AttemptDuration)
	// Every series exists from the start, so rates and alerts see zeros.
	for _, o := range []string{dispatchSent, dispatchRetrying, dispatchDead, dispatchReleased, dispatchLost} {
		m.Dispatched.WithLabelValues(o)
	}
	for _, o := range []string{"ok", "transient", "permanent"} {
		m.AttemptDuration.WithLabelValues(o)
	}
	return m
}
